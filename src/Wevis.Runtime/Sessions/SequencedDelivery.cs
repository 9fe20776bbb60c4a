using Wevis.Transport;

namespace Wevis.Sessions;

/// <summary>
/// One side of a resumable session's sequenced delivery: the frames it sent that the peer has not acknowledged
/// (<see cref="Outgoing"/>), how many of the peer's sequenced messages it has handled (<see cref="Received"/>, the
/// count it acknowledges, at the end of a batch once <see cref="AcknowledgeEvery"/> are new or
/// <see cref="AcknowledgeBytes"/> have arrived, else on a timer), and
/// the age check on what waits for the peer. Sequence numbers are implied: the n-th sequenced message after the
/// login is number n, on both sides, across connections.
/// </summary>
internal abstract class SequencedDelivery
{
    /// <summary>A receiver acknowledges at the end of a batch once this many messages are unacknowledged; its timer acknowledges the rest.</summary>
    public const int AcknowledgeEvery = 64;

    /// <summary>
    /// A receiver also acknowledges at the end of a batch once this many bytes have arrived since it last did: a few
    /// large messages would otherwise stay unacknowledged until the timer, and the sender's held frames could pass its
    /// bound (<c>MaxUnacknowledgedBytes</c>, 4 MiB by default), which ends resumability.
    /// </summary>
    public const int AcknowledgeBytes = 256 * 1024;

    private long _received;
    private long _acknowledgedToPeer;
    private long _bytesSinceAcknowledged;
    private long _unacknowledgedSince;

    /// <summary>What this side sent and the peer has not acknowledged.</summary>
    public ReplayLog Outgoing { get; protected init; } = null!;

    /// <summary>How many of the peer's sequenced messages have been handed up; written only by the receive loop.</summary>
    public long Received => Volatile.Read(ref _received);

    public void CountReceived(int count) => Volatile.Write(ref _received, _received + count);

    /// <summary>A batch of <paramref name="bytes"/> arrived (all its frames); the acknowledging timer may reset the count meanwhile.</summary>
    public void CountReceivedBytes(long bytes) => Interlocked.Add(ref _bytesSinceAcknowledged, bytes);

    /// <summary>
    /// A session taken over from elsewhere: <paramref name="received"/> of the peer's messages were handled there
    /// (the peer is told so when the session resumes, so it needs no acknowledgement of them). Before any receive.
    /// </summary>
    public void ContinueFrom(long received)
    {
        Volatile.Write(ref _received, received);
        Volatile.Write(ref _acknowledgedToPeer, received);
    }

    /// <summary>
    /// The count to acknowledge now, or -1 when the peer already knows it (or fewer than <paramref name="atLeast"/> are
    /// new and fewer than <see cref="AcknowledgeBytes"/> bytes arrived since the last acknowledgement).
    /// </summary>
    public long TakeAcknowledgement(long atLeast)
    {
        long received = Received;
        long told = Volatile.Read(ref _acknowledgedToPeer);
        if (received == told || (received - told < atLeast && Volatile.Read(ref _bytesSinceAcknowledged) < AcknowledgeBytes))
        {
            return -1;
        }

        Volatile.Write(ref _acknowledgedToPeer, received);
        Interlocked.Exchange(ref _bytesSinceAcknowledged, 0);
        return received;
    }

    /// <summary>
    /// The peer acknowledged <paramref name="received"/>; false if it claims more than was sent. Only progress starts
    /// the age of what waits again: an acknowledgement of nothing new (a stale or repeated count) leaves it running,
    /// or a peer could keep frames it never acknowledges held, and the session resumable, for ever.
    /// </summary>
    public bool Acknowledged(long received)
    {
        long before = Outgoing.Acknowledged;
        if (!Outgoing.Acknowledge(received))
        {
            return false;
        }

        if (received > before)
        {
            Volatile.Write(ref _unacknowledgedSince, 0);
        }

        return true;
    }

    /// <summary>
    /// The session starts on a new connection (its first, or a resume): the frames after the peer's
    /// <paramref name="peerReceived"/> are replayed into it, the ones before count as acknowledged. The age of what
    /// waits starts again: the bound is on a connected peer's silence, and a resume's count is the peer's answer (time
    /// spent disconnected is the grace period's, or the reconnect timeout's, to bound). False if the frames cannot be
    /// replayed.
    /// </summary>
    public bool ReplayOn(MessageConnection transport, long peerReceived)
    {
        Volatile.Write(ref _unacknowledgedSince, 0);
        return transport.Replay(Outgoing, peerReceived);
    }

    /// <summary>
    /// The keep-alive's look: breaks the log if frames have waited longer than <paramref name="maxAge"/> with no
    /// acknowledgement coming.
    /// </summary>
    public void CheckAge(long now, TimeSpan maxAge, TimeProvider time)
    {
        if (!Outgoing.HasUnacknowledged)
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
