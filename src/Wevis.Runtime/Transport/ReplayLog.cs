using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;

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
/// </remarks>
internal sealed class ReplayLog
{
    private readonly Lock _lock = new();
    private readonly Action<ReplayLog>? _broken;
    private byte[] _ring = [];
    private int _start;
    private int _count;
    private long _sent;
    private long _acknowledged;
    private SendQueue? _live;
    private string? _brokenReason;
    private bool _closed;

    /// <param name="maxBytes">The most bytes held; a frame that would go over breaks the log.</param>
    /// <param name="broken">Called once, outside the log's lock, when the log breaks (on the sending thread).</param>
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
    public long Sent
    {
        get
        {
            lock (_lock)
            {
                return _sent;
            }
        }
    }

    /// <summary>How many of them the peer has acknowledged.</summary>
    public long Acknowledged
    {
        get
        {
            lock (_lock)
            {
                return _acknowledged;
            }
        }
    }

    /// <summary>Bytes held, waiting for the peer's acknowledgement.</summary>
    public int Bytes
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    /// <summary>Why the log can no longer replay (over its bound, or given up); null while it can.</summary>
    public string? BrokenReason => Volatile.Read(ref _brokenReason);

    /// <summary>Whether a send through a queue that has ended may still be appended (the session may resume).</summary>
    public bool AcceptsDetached
    {
        get
        {
            lock (_lock)
            {
                return !_closed && _brokenReason is null;
            }
        }
    }

    /// <summary>Appends a frame just queued on the live queue's pipe; call under that queue's lock.</summary>
    internal void Append(ReadOnlySpan<byte> frame)
    {
        bool broke;
        lock (_lock)
        {
            broke = AppendLocked(frame);
        }

        if (broke)
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
            if (_closed || _brokenReason is not null)
            {
                return false;
            }

            live = _live;
            if (live is null || ReferenceEquals(live, from))
            {
                broke = AppendLocked(frame);
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
    /// The peer has handled <paramref name="received"/> frames: drops them. Returns false if the peer claims more
    /// than were sent (it broke the protocol).
    /// </summary>
    public bool Acknowledge(long received)
    {
        lock (_lock)
        {
            return AcknowledgeLocked(received);
        }
    }

    /// <summary>Breaks the log, once: it holds nothing from now on, and the session cannot resume.</summary>
    public void Break(string reason)
    {
        bool broke;
        lock (_lock)
        {
            broke = BreakLocked(reason);
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
            _closed = true;
            _live = null;
            ReleaseLocked();
        }
    }

    /// <summary>
    /// Writes the frames after the peer's <paramref name="peerReceived"/> into <paramref name="output"/> (the new
    /// queue's pipe, under its lock) and makes <paramref name="queue"/> the live one. Returns the bytes written, or -1
    /// if they cannot be replayed (the log broke, or the peer's count is outside what the log holds).
    /// </summary>
    internal long ReplayInto(SendQueue queue, PipeWriter? output, long peerReceived)
    {
        lock (_lock)
        {
            if (_closed || _brokenReason is not null || !AcknowledgeLocked(peerReceived))
            {
                return -1;
            }

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

    /// <summary>Whether <paramref name="peerReceived"/> can be replayed from: not before what was dropped, not after what was sent.</summary>
    public bool CanReplayFrom(long peerReceived)
    {
        lock (_lock)
        {
            return _brokenReason is null && !_closed && peerReceived >= _acknowledged && peerReceived <= _sent;
        }
    }

    private bool AppendLocked(ReadOnlySpan<byte> frame)
    {
        _sent++;
        if (_brokenReason is not null || _closed)
        {
            return false;
        }

        if (_count + (long)frame.Length > MaxBytes)
        {
            return BreakLocked($"more than {MaxBytes} bytes were waiting for the peer's acknowledgement");
        }

        if (_count + frame.Length > _ring.Length)
        {
            Grow(_count + frame.Length);
        }

        int end = (_start + _count) % _ring.Length;
        int first = Math.Min(frame.Length, _ring.Length - end);
        frame[..first].CopyTo(_ring.AsSpan(end));
        frame[first..].CopyTo(_ring);
        _count += frame.Length;
        return false;
    }

    private bool AcknowledgeLocked(long received)
    {
        if (received > _sent)
        {
            return false;
        }

        while (_acknowledged < received)
        {
            _acknowledged++;
            if (_brokenReason is not null || _closed || _count == 0)
            {
                continue;
            }

            int length = FrameReader.HeaderSize + ReadBodyLength();
            _start = (_start + length) % _ring.Length;
            _count -= length;
        }

        if (_count == 0)
        {
            _start = 0;
        }

        return true;
    }

    private int ReadBodyLength()
    {
        Span<byte> header = stackalloc byte[FrameReader.HeaderSize];
        for (int i = 0; i < header.Length; i++)
        {
            header[i] = _ring[(_start + i) % _ring.Length];
        }

        return BinaryPrimitives.ReadInt32BigEndian(header);
    }

    private bool BreakLocked(string reason)
    {
        if (_brokenReason is not null)
        {
            return false;
        }

        Volatile.Write(ref _brokenReason, reason);
        _live = null;
        ReleaseLocked();
        return true;
    }

    private void Grow(int needed)
    {
        int size = Math.Max(needed, Math.Max(4096, _ring.Length * 2));
        byte[] grown = ArrayPool<byte>.Shared.Rent((int)Math.Min(size, Math.Max(needed, MaxBytes)));
        int first = Math.Min(_count, _ring.Length - _start);
        _ring.AsSpan(_start, first).CopyTo(grown);
        _ring.AsSpan(0, _count - first).CopyTo(grown.AsSpan(first));
        ReturnRing();
        _ring = grown;
        _start = 0;
    }

    private void ReleaseLocked()
    {
        ReturnRing();
        _ring = [];
        _start = 0;
        _count = 0;
    }

    private void ReturnRing()
    {
        if (_ring.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_ring);
        }
    }
}
