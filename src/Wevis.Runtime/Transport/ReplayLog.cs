using System.Buffers;
using System.Buffers.Binary;

namespace Wevis.Transport;

/// <summary>
/// The sequenced frames one side of a resumable session has sent and the peer has not yet acknowledged, kept as
/// the encoded bytes that went to the socket (so replaying them on a new connection encodes nothing again), in a
/// ring of bytes bounded by <see cref="MaxBytes"/>. Frame <c>n</c> (1-based) is the <c>n</c>-th sequenced frame
/// sent on the session; the peer's cumulative acknowledgement drops frames from the front.
/// </summary>
/// <remarks>
/// <para>The log outlives connections: a <see cref="SendQueue"/> appends to it under its own lock, so the log's
/// order is the socket's order. Once that queue has ended (the connection dropped), what is sent through it is
/// appended here only, and replayed when the session resumes on a new queue (<see cref="SendQueue.Replay"/>); a
/// send that arrives through an old queue after that goes on to the new one.</para>
/// <para>Once the log is over its bound, or its owner gave up on it (<see cref="Break"/>), it keeps counting frames
/// but holds none: the session can no longer be resumed, and <see cref="BrokenReason"/> says why.</para>
/// <para>Appending is the hot path, so it takes no lock of its own: the ring is changed only by its one writer at a
/// time. That is the live queue, under its own lock (<see cref="Append"/>); or, when no queue is live (the
/// connection has ended), whoever holds the log's lock (<see cref="AppendDetached"/>, <see cref="ReplayInto"/>).
/// The two never overlap: a queue appends only until it ends, and the log's lock changes the ring only once the live
/// queue has ended or before a new one is made live. The peer's acknowledgement is only recorded
/// (<see cref="Acknowledge"/>, any thread); the writer drops what it covers before its next append. Breaking and
/// closing only set flags; the writer lets the ring go.</para>
/// </remarks>
internal sealed class ReplayLog
{
    private readonly Lock _lock = new();
    private readonly Action<ReplayLog>? _broken;
    private byte[] _ring = [];
    private int _start;
    private int _count;
    private long _sent;
    private long _trimmed;
    private long _acknowledged;
    private SendQueue? _live;
    private string? _brokenReason;
    private bool _closed;

    /// <param name="maxBytes">The most bytes held; a frame that would go over breaks the log.</param>
    /// <param name="broken">Called once, outside the log's lock, when the log breaks (on the thread that broke it).</param>
    public ReplayLog(long maxBytes, Action<ReplayLog>? broken = null)
    {
        MaxBytes = maxBytes;
        _broken = broken;
    }

    /// <summary>
    /// Whether <paramref name="message"/> counts in the session's sequence: everything after the login except the
    /// session layer's own messages (handshake, keep-alive, closing, acknowledgements), which belong to one connection.
    /// </summary>
    public static bool IsSequenced(IMessage message) =>
        !message.Descriptor.IsProtocolMessage
        || message is not (Protocol.Hello or Protocol.Welcome or Protocol.Login or Protocol.LoginAccepted or Protocol.LoginRejected
            or Protocol.Ping or Protocol.Pong or Protocol.Closing or Protocol.Resume or Protocol.Resumed or Protocol.Ack);

    /// <summary>The most bytes held before the log breaks.</summary>
    public long MaxBytes { get; }

    /// <summary>How many sequenced frames have been sent on the session (the last one's number).</summary>
    public long Sent => Volatile.Read(ref _sent);

    /// <summary>How many of them the peer has acknowledged.</summary>
    public long Acknowledged => Volatile.Read(ref _acknowledged);

    /// <summary>Bytes held, waiting for the peer's acknowledgement (as of the last append: acknowledgements are applied then).</summary>
    public int Bytes => Volatile.Read(ref _count);

    /// <summary>Whether frames are waiting for the peer's acknowledgement.</summary>
    public bool HasUnacknowledged => Volatile.Read(ref _acknowledged) < Volatile.Read(ref _sent);

    /// <summary>Why the log can no longer replay (over its bound, or given up); null while it can.</summary>
    public string? BrokenReason => Volatile.Read(ref _brokenReason);

    /// <summary>Appends a frame just queued on the live queue's buffer; call under that queue's lock.</summary>
    internal void Append(ReadOnlySpan<byte> frame)
    {
        if (AppendByWriter(frame))
        {
            _broken?.Invoke(this);
        }
    }

    /// <summary>
    /// A frame sent through <paramref name="from"/>, whose connection has ended: appended here to be replayed, or,
    /// if the session has resumed on another queue meanwhile, sent there. Returns false if the session can no longer
    /// resume (the frame is dropped).
    /// </summary>
    internal bool AppendDetached(ReadOnlySpan<byte> frame, SendQueue from)
    {
        SendQueue? live;
        bool broke;
        lock (_lock)
        {
            if (_closed || BrokenReason is not null)
            {
                return false;
            }

            live = _live;
            if (live is null || ReferenceEquals(live, from))
            {
                // No queue is live (the one that was has ended): the log's lock makes this the writer.
                broke = AppendByWriter(frame);
                live = null;
            }
            else
            {
                broke = false;
            }
        }

        if (broke)
        {
            _broken?.Invoke(this);
            return false;
        }

        return live is null || live.TrySendFrame(frame);
    }

    /// <summary>
    /// The peer has handled <paramref name="received"/> frames: they are dropped before the next append. Returns
    /// false if the peer claims more than were sent (it broke the protocol). Any thread.
    /// </summary>
    public bool Acknowledge(long received)
    {
        if (received > Volatile.Read(ref _sent))
        {
            return false;
        }

        long known = Volatile.Read(ref _acknowledged);
        while (received > known)
        {
            long seen = Interlocked.CompareExchange(ref _acknowledged, received, known);
            if (seen == known)
            {
                break;
            }

            known = seen;
        }

        return true;
    }

    /// <summary>Breaks the log, once: it holds nothing from now on, and the session cannot resume.</summary>
    public void Break(string reason)
    {
        bool broke;
        lock (_lock)
        {
            broke = Interlocked.CompareExchange(ref _brokenReason, reason, null) is null;
            _live = null;
        }

        if (broke)
        {
            _broken?.Invoke(this);
        }
    }

    /// <summary>Ends the log for good (the session ended): sends through ended queues are dropped from now on.</summary>
    public void Close()
    {
        lock (_lock)
        {
            Volatile.Write(ref _closed, true);
            _live = null;
        }
    }

    /// <summary>
    /// Writes the frames after the peer's <paramref name="peerReceived"/> into <paramref name="output"/> (the new
    /// queue's buffer, under its lock; null if that queue has ended already) and makes <paramref name="queue"/> the live
    /// one. Returns the bytes written, or -1 if they cannot be replayed (the log broke, or the peer's count is outside
    /// what the log holds).
    /// </summary>
    internal long ReplayInto(SendQueue queue, IBufferWriter<byte>? output, long peerReceived)
    {
        lock (_lock)
        {
            // The previous live queue has ended, and the new one is not live yet: the log's lock makes this the writer.
            if (!CanReplayFrom(peerReceived))
            {
                return -1;
            }

            Acknowledge(peerReceived);
            TrimAcknowledged();
            _live = queue;
            if (output is null)
            {
                return 0;
            }

            int first = Math.Min(_count, _ring.Length - _start);
            output.Write(_ring.AsSpan(_start, first));
            output.Write(_ring.AsSpan(0, _count - first));
            return _count;
        }
    }

    /// <summary>
    /// Makes a fresh log continue a session's numbering: the frames up to <paramref name="sequence"/> count as sent
    /// and acknowledged (another server, or room, holds or held them). Call before anything is appended.
    /// </summary>
    /// <exception cref="InvalidOperationException">The log has had frames already.</exception>
    public void StartAt(long sequence)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        lock (_lock)
        {
            if (_sent != 0 || _live is not null)
            {
                throw new InvalidOperationException("Only a fresh replay log can start at another sequence number.");
            }

            _sent = sequence;
            _acknowledged = sequence;
            _trimmed = sequence;
        }
    }

    /// <summary>
    /// Appends <paramref name="frames"/> (whole frames, prefixes included, one after another), numbered after what
    /// was sent: how a session adopted from elsewhere gets the frames its peer may not have handled. Call only while
    /// no queue is live (before the log is replayed into one). Returns false if they broke the log (over its bound).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="frames"/> ends in the middle of a frame.</exception>
    public bool AppendFrames(ReadOnlySpan<byte> frames)
    {
        bool broke = false;
        lock (_lock)
        {
            while (!frames.IsEmpty)
            {
                int length = frames.Length >= FrameReader.HeaderSize ? FrameReader.HeaderSize + BinaryPrimitives.ReadInt32BigEndian(frames) : -1;
                if (length < FrameReader.HeaderSize || length > frames.Length)
                {
                    throw new ArgumentException("The frames end in the middle of a frame.", nameof(frames));
                }

                broke |= AppendByWriter(frames[..length]);
                frames = frames[length..];
            }
        }

        if (broke)
        {
            _broken?.Invoke(this);
        }

        return BrokenReason is null;
    }

    /// <summary>Whether the frames held run past the ring's end and on from its start (for tests of copies across it).</summary>
    internal bool WrapsAround
    {
        get
        {
            lock (_lock)
            {
                return _start + _count > _ring.Length;
            }
        }
    }

    /// <summary>
    /// A copy of the frames after number <paramref name="sequence"/> (prefixes included), to hand the session on;
    /// null if they are not all held (the log broke, or <paramref name="sequence"/> is before what was acknowledged
    /// and dropped, or after what was sent). Call only while nothing is being appended (the session's owner makes
    /// sure: the user is between rooms, or the room holds the lock its sends take).
    /// </summary>
    public byte[]? CopyAfter(long sequence) => CopyBetween(sequence, long.MaxValue);

    /// <summary>
    /// A copy of the frames after number <paramref name="after"/> up to number <paramref name="through"/> (or the last
    /// sent, if that is sooner); null as <see cref="CopyAfter"/>, and if <paramref name="through"/> is before
    /// <paramref name="after"/>. Same caller's rule as <see cref="CopyAfter"/>.
    /// </summary>
    public byte[]? CopyBetween(long after, long through)
    {
        lock (_lock)
        {
            if (BrokenReason is not null || after < _trimmed || after > _sent || through < after)
            {
                return null;
            }

            byte[] ring = _ring;
            int start = _start;
            int count = _count;
            SkipFrames(ring, ref start, ref count, after - _trimmed);
            if (through < _sent)
            {
                // Leave out the frames after number `through`: count only the bytes of those before.
                int end = start;
                int rest = count;
                SkipFrames(ring, ref end, ref rest, through - after);
                count -= rest;
            }

            byte[] copy = new byte[count];
            int first = Math.Min(count, ring.Length - start);
            ring.AsSpan(start, first).CopyTo(copy);
            ring.AsSpan(0, count - first).CopyTo(copy.AsSpan(first));
            return copy;
        }
    }

    /// <summary>
    /// A copy of the frames the peer has not acknowledged, and in <paramref name="acknowledged"/> the number of the
    /// last frame it has; null if the log broke. Same caller's rule as <see cref="CopyAfter"/>.
    /// </summary>
    public byte[]? CopyUnacknowledged(out long acknowledged)
    {
        acknowledged = Acknowledged;
        return CopyAfter(acknowledged);
    }

    /// <summary>Whether <paramref name="peerReceived"/> can be replayed from: not before what was acknowledged, not after what was sent.</summary>
    public bool CanReplayFrom(long peerReceived) =>
        BrokenReason is null && !Volatile.Read(ref _closed) && peerReceived >= Acknowledged && peerReceived <= Sent;

    /// <summary>The writer's append (see the remarks); true if it broke the log.</summary>
    private bool AppendByWriter(ReadOnlySpan<byte> frame)
    {
        Volatile.Write(ref _sent, _sent + 1);
        if (BrokenReason is not null || Volatile.Read(ref _closed))
        {
            ReleaseByWriter();
            return false;
        }

        TrimAcknowledged();
        if (_count + (long)frame.Length > MaxBytes)
        {
            if (Interlocked.CompareExchange(ref _brokenReason, $"more than {MaxBytes} bytes were waiting for the peer's acknowledgement", null) is not null)
            {
                return false;
            }

            ReleaseByWriter();
            return true;
        }

        if (_count + frame.Length > _ring.Length)
        {
            Grow(_count + frame.Length);
        }

        byte[] ring = _ring;
        int end = _start + _count;
        if (end >= ring.Length)
        {
            end -= ring.Length;
        }

        if (end + frame.Length <= ring.Length)
        {
            frame.CopyTo(ring.AsSpan(end));
        }
        else
        {
            int first = ring.Length - end;
            frame[..first].CopyTo(ring.AsSpan(end));
            frame[first..].CopyTo(ring);
        }

        Volatile.Write(ref _count, _count + frame.Length);
        return false;
    }

    /// <summary>The writer drops the frames the peer has acknowledged since the last time.</summary>
    private void TrimAcknowledged()
    {
        long acknowledged = Volatile.Read(ref _acknowledged);
        if (acknowledged <= _trimmed)
        {
            return;
        }

        byte[] ring = _ring;
        int start = _start;
        int count = _count;
        SkipFrames(ring, ref start, ref count, acknowledged - _trimmed);

        _trimmed = acknowledged;
        _start = count == 0 ? 0 : start;
        Volatile.Write(ref _count, count);
    }

    /// <summary>The body length in the prefix of the frame at <paramref name="start"/>, which may wrap around the ring's end.</summary>
    /// <summary>Moves <paramref name="start"/> past <paramref name="frames"/> whole frames of the ring (wrapping), and
    /// <paramref name="count"/> down by their bytes; stops early when the bytes run out.</summary>
    private static void SkipFrames(byte[] ring, ref int start, ref int count, long frames)
    {
        for (; frames > 0 && count > 0; frames--)
        {
            int length = FrameReader.HeaderSize + ReadBodyLength(ring, start);
            start += length;
            if (start >= ring.Length)
            {
                start -= ring.Length;
            }

            count -= length;
        }
    }

    private static int ReadBodyLength(byte[] ring, int start)
    {
        if (start + FrameReader.HeaderSize <= ring.Length)
        {
            return BinaryPrimitives.ReadInt32BigEndian(ring.AsSpan(start, FrameReader.HeaderSize));
        }

        Span<byte> header = stackalloc byte[FrameReader.HeaderSize];
        for (int i = 0; i < header.Length; i++)
        {
            header[i] = ring[(start + i) % ring.Length];
        }

        return BinaryPrimitives.ReadInt32BigEndian(header);
    }

    private void Grow(int needed)
    {
        int size = Math.Max(needed, Math.Max(4096, _ring.Length * 2));
        byte[] grown = ArrayPool<byte>.Shared.Rent((int)Math.Min(size, Math.Max(needed, MaxBytes)));
        int count = _count;
        int first = Math.Min(count, _ring.Length - _start);
        _ring.AsSpan(_start, first).CopyTo(grown);
        _ring.AsSpan(0, count - first).CopyTo(grown.AsSpan(first));

        // Letting the old ring go empties the log: what was held, now at the start of the new ring, is put back.
        ReleaseByWriter();
        _ring = grown;
        Volatile.Write(ref _count, count);
    }

    /// <summary>The writer lets the ring go (only the writer returns it to the pool: nobody else writes into it).</summary>
    private void ReleaseByWriter()
    {
        if (_ring.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_ring);
            _ring = [];
        }

        _start = 0;
        Volatile.Write(ref _count, 0);
    }
}
