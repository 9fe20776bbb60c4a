using Wevis.Transport;

namespace Wevis.Sessions;

/// <summary>
/// The client's side of a resumable session, kept by the client across its connections: the token the server gave
/// at the last login (never logged), the frames sent and not acknowledged (sends while disconnected included), and
/// how many of the server's sequenced messages were handed to the client's inbox.
/// </summary>
internal sealed class ClientResumeState : SequencedDelivery
{
    public ClientResumeState(long maxUnacknowledgedBytes)
    {
        Outgoing = new ReplayLog(maxUnacknowledgedBytes);
    }

    /// <summary>The token to resume with; empty until the server has given one.</summary>
    public string Token { get; set; } = string.Empty;

    /// <summary>Whether the server gave a resumable session (an older server, or one with resuming off, does not).</summary>
    public bool IsResumable => Token.Length > 0;
}
