namespace Wevis.Sessions;

/// <summary>Receives a logged-in client session's messages, in order, on its receive loop (the client's inbox).</summary>
internal interface IClientReceiver
{
    /// <summary>
    /// Takes <paramref name="messages"/>[<paramref name="start"/>..<paramref name="end"/>): application messages and
    /// the protocol messages of layers above sessions (room notices). The list is reused afterwards.
    /// </summary>
    void Receive(List<IMessage> messages, int start, int end);
}
