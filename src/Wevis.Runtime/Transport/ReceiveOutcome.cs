namespace Wevis.Transport;

/// <summary>Why a connection's receive loop ended.</summary>
/// <param name="Reason">A sentence for the log and for the peer.</param>
/// <param name="IsProtocolViolation">The peer sent something that is not valid Wevis.</param>
internal readonly record struct ReceiveOutcome(string Reason, bool IsProtocolViolation = false);

/// <summary>Handles the messages a connection receives, a batch (all whole frames of one read) at a time.</summary>
internal interface IMessageBatchHandler
{
    /// <summary>Handles <paramref name="messages"/> in order. The list is reused after this returns.</summary>
    ValueTask HandleBatchAsync(MessageConnection connection, List<IMessage> messages);
}
