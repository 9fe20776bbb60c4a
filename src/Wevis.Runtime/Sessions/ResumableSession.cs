using Wevis.Transport;

namespace Wevis.Sessions;

/// <summary>
/// A resumable session on the server: what outlives its connection. The user, the receiver above (their place in
/// the rooms), the frames sent and not yet acknowledged (<see cref="Outgoing"/>), how many of the client's
/// sequenced messages have been handed up (<see cref="Received"/>), and the connection that carries it now. Its state
/// changes only through <see cref="ResumableSessions"/>.
/// </summary>
internal sealed class ResumableSession
{
    private long _received;
    private long _acknowledgedToPeer;
    private long _unacknowledgedSince;

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

    /// <summary>The session's token (never logged); a new one after each resume.</summary>
    public string Token { get; set; } = string.Empty;

    public User User { get; }

    /// <summary>The connection carrying the session (the last one, while dropped).</summary>
    public ServerSession Current { get; set; }

    /// <summary>What receives the session's messages: set once the first login is accepted.</summary>
    public ISessionReceiver? Receiver { get; set; }

    public ReplayLog Outgoing { get; }

    public Phase State { get; set; }

    /// <summary>Whether the receiver was told of the drop (so it is told of the resume).</summary>
    public bool DropReported { get; set; }

    /// <summary>Ends a dropped session when the grace period runs out.</summary>
    public ITimer? Grace { get; set; }

    /// <summary>Why the session ended, once it has.</summary>
    public string? EndReason { get; set; }

    /// <summary>How many of the client's sequenced messages have been handed up; written only by the receive loop.</summary>
    public long Received => Volatile.Read(ref _received);

    public void CountReceived(int count) => Volatile.Write(ref _received, _received + count);

    /// <summary>The count to acknowledge now, or -1 when the client already knows it (or no more than <paramref name="atLeast"/> new).</summary>
    public long TakeAcknowledgement(long atLeast)
    {
        long received = Received;
        long told = Volatile.Read(ref _acknowledgedToPeer);
        if (received - told < atLeast || received == told)
        {
            return -1;
        }

        Volatile.Write(ref _acknowledgedToPeer, received);
        return received;
    }

    /// <summary>The client acknowledged <paramref name="received"/>; false if it claims more than was sent.</summary>
    public bool Acknowledged(long received)
    {
        Volatile.Write(ref _unacknowledgedSince, 0);
        return Outgoing.Acknowledge(received);
    }

    /// <summary>
    /// The keep-alive's look: breaks the log if frames have waited longer than <paramref name="maxAge"/> with no
    /// acknowledgement coming.
    /// </summary>
    public void CheckAge(long now, TimeSpan maxAge, TimeProvider time)
    {
        if (Outgoing.Bytes == 0)
        {
            Volatile.Write(ref _unacknowledgedSince, 0);
            return;
        }

        long since = Volatile.Read(ref _unacknowledgedSince);
        if (since == 0)
        {
            Volatile.Write(ref _unacknowledgedSince, now);
        }
        else if (time.GetElapsedTime(since, now) > maxAge)
        {
            Outgoing.Break($"nothing sent was acknowledged within {maxAge.TotalSeconds:0.###} s");
        }
    }
}
