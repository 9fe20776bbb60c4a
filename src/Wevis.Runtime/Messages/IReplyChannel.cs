namespace Wevis;

/// <summary>
/// Where a request's answer goes: the connection it came on. The server's connection implements it; a request
/// only knows this much of it, so the message layer does not depend on the server's.
/// </summary>
internal interface IReplyChannel
{
    /// <summary>Sends <paramref name="reply"/> as the answer to request <paramref name="requestId"/>.</summary>
    /// <exception cref="ArgumentException">The reply is not one of the server's message types, or is over the frame limit.</exception>
    void SendReply(int requestId, IServerMessage reply);

    /// <summary>Tells the client that request <paramref name="requestId"/> failed, and why.</summary>
    void SendFailure(int requestId, string reason);
}
