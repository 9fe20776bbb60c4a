using Wevis.Transport;

namespace Wevis.Sessions;

/// <summary>
/// A resumable session on the server: what outlives its connection. The user, the receiver above (their place in
/// the rooms), the frames sent and not yet acknowledged (<see cref="SequencedDelivery.Outgoing"/>), how many of the client's
/// sequenced messages have been handed up (<see cref="SequencedDelivery.Received"/>), and the connection that carries it now. Its state
/// changes only through <see cref="ResumableSessions"/>.
/// </summary>
internal sealed class ResumableSession : SequencedDelivery
{
    public ResumableSession(User user, ServerSession current, long maxUnacknowledgedBytes, Action<ResumableSession> broken)
    {
        User = user;
        Current = current;
        Outgoing = new ReplayLog(maxUnacknowledgedBytes, _ => broken(this));
    }

    public enum Phase
    {
        Live,
        Dropped,
        Resuming,
        Ended,
    }

    /// <summary>The session's token (never logged), for its whole life.</summary>
    public string Token { get; set; } = string.Empty;

    public User User { get; }

    /// <summary>The connection carrying the session (the last one, while dropped).</summary>
    public ServerSession Current { get; set; }

    /// <summary>The connection resuming the session, while it does (it holds the user's place under the limit).</summary>
    public ServerSession? Resumer { get; set; }

    /// <summary>One resume at a time: a later attempt (the earlier one's connection broke in the handshake) waits, then takes over from it.</summary>
    public SemaphoreSlim ResumeGate { get; } = new(1, 1);

    /// <summary>What receives the session's messages: set once the first login is accepted.</summary>
    public ISessionReceiver? Receiver { get; set; }

    public Phase State { get; set; }

    /// <summary>Whether the receiver was told of the drop (so it is told of the resume).</summary>
    public bool DropReported { get; set; }

    /// <summary>Ends a dropped session when the grace period runs out.</summary>
    public ITimer? Grace { get; set; }

    /// <summary>Why the session ended, once it has.</summary>
    public string? EndReason { get; set; }

    /// <summary>
    /// Why the server ended the session for good (its code closed the user's connection), set at once, before the
    /// session has ended (a live one ends when its connection has closed): from then on no resume may take it.
    /// </summary>
    public string? EndedByServer { get; set; }
}
