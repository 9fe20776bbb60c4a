namespace Wevis.Transport;

/// <summary>Handles the messages a connection receives, a batch (all whole frames of one read) at a time.</summary>
internal interface IMessageBatchHandler
{
    /// <summary>Handles <paramref name="messages"/> in order. The list is reused after this returns.</summary>
    ValueTask HandleBatchAsync(MessageConnection connection, List<IMessage> messages);
}
