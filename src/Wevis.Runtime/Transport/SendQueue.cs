using System.Buffers;
using System.Buffers.Binary;
using System.Net.Security;
using System.Net.Sockets;
using MessagePack;

namespace Wevis.Transport;

/// <summary>
/// The sending half of a <see cref="MessageConnection"/>: frames are encoded into an <see cref="OutgoingBuffer"/> under
/// a lock, and one send at a time writes what is flushed to the socket.
/// </summary>
/// <remarks>
/// <para>Sending runs inline: a flush that finds no send under way starts one on the flushing thread, once that
/// thread has let go of the queue's lock (the socket write is a system call, and made under the lock it kept every
/// other thread writing to the same connection waiting: a broadcast, in its room's turn, stalled on each recipient
/// whose own flush was under way). A send under way takes everything flushed meanwhile when its write ends.
/// Within a dispatch batch of the same flush group, flushing waits for the batch's end, or for
/// <see cref="FlushEveryFrames"/> frames or <see cref="FlushEveryBytes"/> bytes, whichever comes first
/// (<see cref="FlushBatch"/>).</para>
/// <para>Bytes queued but not yet taken by the socket are capped: a peer that does not read is dropped (through
/// the abort callback) rather than allowed to grow the queue.</para>
/// </remarks>
internal sealed class SendQueue
{
    /// <summary>
    /// Within a batch, queued frames are flushed early after this many (as Netty's flush consolidation does), so
    /// a long batch of replies overlaps with the peer's handling of them.
    /// </summary>
    internal const int FlushEveryFrames = 256;

    /// <summary>Within a batch, queued frames are flushed early once they reach this many bytes.</summary>
    internal const int FlushEveryBytes = 64 * 1024;

    private readonly Stream _stream;
    private readonly Socket? _socket;
    private readonly Socket? _gatherSocket;
    private readonly OutgoingBuffer _output = new(SendBufferPool.Shared);
    private readonly MessageRegistry _registry;
    private readonly ConnectionLimits _limits;
    private readonly object _flushGroup;
    private readonly Action<string> _abort;
    private readonly Lock _lock = new();
    private readonly List<ArraySegment<byte>> _segments = [];
    private readonly TaskCompletionSource _sendsEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _queuedBytes;
    private bool _flushPending;
    private int _framesSinceFlush;
    private long _flushes;
    private bool _queueLimitExceeded;
    private bool _started;
    private bool _completed;
    private bool _cancelled;
    private bool _sending;
    private bool _ended;
    private int _sendClaimed;
    private long _claimedBytes; // what the claimed send took, under the lock, for it to write first
    private bool _sentEnd;
    private ReplayLog? _replay;

    /// <param name="stream">The stream to write to (the socket's, or TLS over it).</param>
    /// <param name="socket">The socket, to shut its sending side at the end; null for streams without one.</param>
    /// <param name="registry">The message types that may be sent.</param>
    /// <param name="limits">The frame and queue limits.</param>
    /// <param name="flushGroup">The group whose dispatch batches may defer this queue's flushes.</param>
    /// <param name="abort">Ends the connection at once, with a reason: called when the queue overflows or a write fails.</param>
    public SendQueue(Stream stream, Socket? socket, MessageRegistry registry, ConnectionLimits limits, object flushGroup, Action<string> abort)
    {
        _stream = stream;
        _socket = socket;
        // Straight socket writes (gathered when several blocks) only when the stream is the socket itself; TLS goes through the stream.
        _gatherSocket = stream is NetworkStream ? socket : null;
        _registry = registry;
        _limits = limits;
        _flushGroup = flushGroup;
        _abort = abort;
    }

    /// <summary>Counts what is queued and dropped, on a server; null counts nothing.</summary>
    public Diagnostics.ServerMetrics? Metrics { get; set; }

    /// <summary>Whether the queue was dropped because more than <see cref="ConnectionLimits.MaxQueuedBytes"/> waited to be sent.</summary>
    public bool QueueLimitExceeded => Volatile.Read(ref _queueLimitExceeded);

    /// <summary>Bytes queued for sending that the socket has not taken yet.</summary>
    public long QueuedBytes => Interlocked.Read(ref _queuedBytes);

    /// <summary>Whether everything queued was written and the sending side shut (the peer saw the end of the stream).</summary>
    public bool SentEnd => Volatile.Read(ref _sentEnd);

    /// <summary>Completes when sending has ended: everything queued was written and the sending side shut, or the queue was cancelled.</summary>
    public Task Completion => Volatile.Read(ref _started) ? _sendsEnded.Task : Task.CompletedTask;

    /// <summary>Starts sending: what was flushed before goes out now.</summary>
    public void Start()
    {
        lock (_lock)
        {
            Volatile.Write(ref _started, true);
            ClaimSendLocked();
        }

        RunClaimedSend();
    }

    /// <summary>
    /// Queues <paramref name="message"/>; it is flushed at once, or at the end of the current dispatch batch.
    /// Returns false if the queue is complete (the connection is closing) or overflowed: the message is dropped.
    /// </summary>
    /// <exception cref="ArgumentException">The message is not in the registry or is over the frame limit.</exception>
    public bool TrySend(IMessage message)
    {
        MessageDescriptor descriptor = message.Descriptor;
        if (!_registry.Contains(descriptor))
        {
            throw new ArgumentException(
                $"{descriptor.Name} ({descriptor.MessageType.FullName}) is not one of this connection's message types; "
                + "pass the registry that defines it in the options.",
                nameof(message));
        }

        if (descriptor.MaxBodySize <= _limits.MaxFrameSize)
        {
            return TrySendBounded(message, descriptor);
        }

        FrameBuffer frame = FrameBuffer.Encode(message);
        try
        {
            if (frame.BodyLength > _limits.MaxFrameSize)
            {
                FrameBuffer.ThrowOverLimit(descriptor, frame.BodyLength, _limits.MaxFrameSize);
            }

            return TrySendFrame(frame.Frame);
        }
        finally
        {
            FrameBuffer.Return(frame);
        }
    }

    /// <summary>
    /// Queues a message whose body cannot exceed the frame limit (only fixed-size arguments), encoding it straight
    /// into the outgoing buffer: no intermediate buffer and no copy.
    /// </summary>
    private bool TrySendBounded(IMessage message, MessageDescriptor descriptor)
    {
        bool overLimit;
        try
        {
            lock (_lock)
            {
                if (!_completed)
                {
                    overLimit = WriteBoundedLocked(message, descriptor);
                }
                else if (_replay is null || !ReplayLog.IsSequenced(message))
                {
                    Metrics?.Dropped(descriptor);
                    return false;
                }
                else
                {
                    // The connection has ended but the session may resume: the message waits in the replay log.
                    return AppendDetached(message);
                }
            }
        }
        finally
        {
            RunClaimedSend();
        }

        return !overLimit || DropForQueueLimit();
    }

    private bool WriteBoundedLocked(IMessage message, MessageDescriptor descriptor)
    {
        {
            OutgoingBuffer output = _output;
            long start = output.UnflushedBytes;
            // One contiguous span holds the whole frame, so the prefix can be filled in once the body's length is known.
            Memory<byte> frame = output.GetMemory(FrameReader.HeaderSize + descriptor.MaxBodySize);
            output.Advance(FrameReader.HeaderSize);
            try
            {
                var writer = new MessagePackWriter(output);
                descriptor.Write(ref writer, message);
                writer.Flush();
            }
            catch
            {
                // Part of a frame is in the buffer: the stream can no longer be trusted.
                _abort($"encoding a {descriptor.Name} message failed");
                throw;
            }

            int frameLength = (int)(output.UnflushedBytes - start);
            BinaryPrimitives.WriteInt32BigEndian(frame.Span, frameLength - FrameReader.HeaderSize);
            if (_replay is not null && ReplayLog.IsSequenced(message))
            {
                _replay.Append(frame.Span[..frameLength]);
            }

            Metrics?.Sent(descriptor, frameLength);
            return QueuedLocked(frameLength);
        }
    }

    /// <summary>Under the lock: the log takes its own lock inside, and hands a frame on to a newer queue outside it.</summary>
    private bool AppendDetached(IMessage message)
    {
        FrameBuffer frame = FrameBuffer.Encode(message);
        try
        {
            return _replay!.AppendDetached(frame.Frame, this);
        }
        finally
        {
            FrameBuffer.Return(frame);
        }
    }

    /// <summary>Queues an encoded frame (prefix included), as <see cref="TrySend"/> does.</summary>
    public bool TrySendFrame(ReadOnlySpan<byte> frame)
    {
        bool overLimit;
        ReplayLog? detached = null;
        try
        {
            lock (_lock)
            {
                if (_completed)
                {
                    if (_replay is null)
                    {
                        Metrics?.DroppedFrames(frame);
                        return false;
                    }

                    detached = _replay;
                    overLimit = false;
                }
                else
                {
                    _output.Write(frame);
                    // Frames come encoded only from above the session layer (broadcasts, requests, replies): all sequenced.
                    _replay?.Append(frame);
                    Metrics?.SentFrames(frame);
                    overLimit = QueuedLocked(frame.Length);
                }
            }
        }
        finally
        {
            RunClaimedSend();
        }

        if (detached is not null)
        {
            // The connection has ended but the session may resume: the frame waits in the replay log.
            return detached.AppendDetached(frame, this);
        }

        return !overLimit || DropForQueueLimit();
    }

    /// <summary>
    /// Starts logging the session's sequenced frames in <paramref name="log"/>, after writing (first, before anything
    /// sequenced sent from now on) those the peer has not handled: the frames after its <paramref name="peerReceived"/>.
    /// Returns false if they cannot be replayed (the log broke, or the count is not one it can replay from). If this
    /// queue has ended already (the new connection broke at once), nothing is written but the log is attached all
    /// the same: what is sent through it waits in the log for the next resume.
    /// </summary>
    public bool Replay(ReplayLog log, long peerReceived)
    {
        bool overLimit;
        try
        {
            lock (_lock)
            {
                long replayed = log.ReplayInto(this, _completed ? null : _output, peerReceived);
                if (replayed < 0)
                {
                    return false;
                }

                _replay = log;
                if (_completed)
                {
                    return true;
                }

                overLimit = QueuedLocked((int)replayed);
            }
        }
        finally
        {
            RunClaimedSend();
        }

        return !overLimit || DropForQueueLimit();
    }

    /// <summary>
    /// Accounts for a frame just written to the buffer and flushes it now, or at the end of the current batch (or
    /// early, in a long batch). Returns whether the queue is over its limit. Call under the lock.
    /// </summary>
    private bool QueuedLocked(int frameLength)
    {
        bool overLimit = Interlocked.Add(ref _queuedBytes, frameLength) > _limits.MaxQueuedBytes;
        if (!overLimit)
        {
            if (_flushPending)
            {
                _framesSinceFlush++;
                if (_framesSinceFlush >= FlushEveryFrames || _output.UnflushedBytes >= FlushEveryBytes)
                {
                    // A long batch: what is ready goes out now, so the peer starts on it while the rest of
                    // the batch is handled, instead of both sides taking turns. The batch still flushes the
                    // remainder at its end.
                    FlushLocked();
                }
            }
            else if (FlushBatch.CurrentFor(_flushGroup) is { } batch)
            {
                _flushPending = true;
                _framesSinceFlush = 1;
                batch.Add(this);
            }
            else
            {
                FlushLocked();
            }
        }

        return overLimit;
    }

    /// <summary>Drops the connection whose send queue went over its limit; returns false (the message is dropped).</summary>
    private bool DropForQueueLimit()
    {
        if (!Volatile.Read(ref _queueLimitExceeded))
        {
            Metrics?.QueueOverflowed();
        }

        Volatile.Write(ref _queueLimitExceeded, true);
        _abort($"more than {_limits.MaxQueuedBytes} bytes were queued for sending: the peer is not reading");
        return false;
    }

    /// <summary>For tests: how many times what was queued has been flushed.</summary>
    internal long FlushCount => Volatile.Read(ref _flushes);

    /// <summary>Makes everything queued ready to send, and sends it unless a send is under way (which takes it next).</summary>
    public void Flush()
    {
        lock (_lock)
        {
            _flushPending = false;
            FlushLocked();
        }

        RunClaimedSend();
    }

    private void FlushLocked()
    {
        _framesSinceFlush = 0;
        if (_completed)
        {
            return;
        }

        _flushes++;
        _output.Flush();
        ClaimSendLocked();
    }

    /// <summary>
    /// Ends the queue, once: <paramref name="farewell"/> (if any) goes last, then everything queued is written and
    /// the sending side is shut. Later sends are dropped.
    /// </summary>
    public void Complete(IMessage? farewell)
    {
        lock (_lock)
        {
            if (_completed)
            {
                return;
            }

            if (farewell is not null)
            {
                FrameBuffer frame = FrameBuffer.Encode(farewell);
                _output.Write(frame.Frame);
                Interlocked.Add(ref _queuedBytes, frame.Frame.Length);
                FrameBuffer.Return(frame);
            }

            // Everything queued goes out, what a batch had not flushed yet included.
            _completed = true;
            _output.Flush();
            ClaimSendLocked();
        }

        RunClaimedSend();
    }

    /// <summary>
    /// Ends the queue at once, dropping what is queued; sending stops (after the write under way, if any: the caller
    /// closes the socket to end that) without shutting the socket.
    /// </summary>
    public void Cancel()
    {
        lock (_lock)
        {
            _completed = true;
            _cancelled = true;
            if (_sending)
            {
                // The send under way ends the queue when its write ends.
                return;
            }

            EndLocked();
        }
    }

    /// <summary>
    /// Under the lock: if flushed bytes (or the queue's end) wait and no send is under way, claims one and takes what
    /// it will write, for whoever lets go of the lock next to run (<see cref="RunClaimedSend"/>).
    /// </summary>
    private void ClaimSendLocked()
    {
        if (!_sending && !_ended && _started && (_output.FlushedBytes > 0 || _completed))
        {
            _sending = true;
            // Taken now, under the lock the flush holds anyway, rather than by the send under a lock of its own.
            _claimedBytes = _output.Take(_segments);
            Volatile.Write(ref _sendClaimed, 1);
        }
    }

    /// <summary>
    /// Runs the send claimed under the lock, if one waits; called by whoever just let the lock go. Any such caller
    /// may run it, exactly one does, on its own thread (no hop) until the socket write waits.
    /// </summary>
    private void RunClaimedSend()
    {
        if (Volatile.Read(ref _sendClaimed) != 0 && Interlocked.Exchange(ref _sendClaimed, 0) != 0)
        {
            _ = SendAsync();
        }
    }

    /// <summary>
    /// The one send under way: writes what its claim took, then what was flushed meanwhile, until nothing is; then
    /// ends, or ends the queue.
    /// </summary>
    private async Task SendAsync()
    {
        try
        {
            long taken = _claimedBytes;
            if (Volatile.Read(ref _cancelled))
            {
                End();
                return;
            }

            while (true)
            {
                if (taken == 0)
                {
                    // Everything queued is written: say so to the peer, which then sees the end of the stream.
                    await ShutdownSendAsync().ConfigureAwait(false);
                    Volatile.Write(ref _sentEnd, true);
                    End();
                    return;
                }

                await WriteAsync(taken).ConfigureAwait(false);
                Interlocked.Add(ref _queuedBytes, -taken);
                lock (_lock)
                {
                    _output.Sent();
                    if (_cancelled)
                    {
                        EndLocked();
                        return;
                    }

                    taken = _output.Take(_segments);
                    if (taken == 0 && !_completed)
                    {
                        _sending = false;
                        return;
                    }
                }
            }
        }
        catch (Exception ex) when (NetworkErrors.IsNetworkError(ex))
        {
            _abort("the connection was lost while sending: " + ex.Message);
            End();
        }
        catch (Exception ex)
        {
            _abort("sending failed: " + ex.Message);
            End(ex);
        }
    }

    private void End(Exception? error = null)
    {
        lock (_lock)
        {
            _completed = true;
            EndLocked(error);
        }
    }

    /// <summary>Under the lock, with no write under way: gives the blocks back and completes <see cref="Completion"/>.</summary>
    private void EndLocked(Exception? error = null)
    {
        if (_ended)
        {
            return;
        }

        _ended = true;
        _sending = false;
        _output.Clear();
        if (error is null)
        {
            _sendsEnded.TrySetResult();
        }
        else
        {
            _sendsEnded.TrySetException(error);
        }
    }

    /// <summary>Writes the segments last taken: straight to a plain socket (gathered when several), else to the stream.</summary>
    private async ValueTask WriteAsync(long length)
    {
        List<ArraySegment<byte>> segments = _segments;
        if (_gatherSocket is null)
        {
            foreach (ArraySegment<byte> segment in segments)
            {
                await _stream.WriteAsync(segment).ConfigureAwait(false);
            }

            return;
        }

        // One block: the Memory overload, whose ValueTask allocates nothing when the send completes at once (the
        // ArraySegment overload returns a Task<int>, one allocation per send).
        long sent = segments.Count == 1
            ? await _gatherSocket.SendAsync(segments[0].AsMemory(), SocketFlags.None).ConfigureAwait(false)
            : await _gatherSocket.SendAsync(segments, SocketFlags.None).ConfigureAwait(false);
        if (sent < length)
        {
            // The socket took part of it (it normally takes all): the rest goes through the stream, which writes all.
            foreach (ArraySegment<byte> segment in segments)
            {
                if (sent >= segment.Count)
                {
                    sent -= segment.Count;
                    continue;
                }

                await _stream.WriteAsync(segment.AsMemory((int)sent)).ConfigureAwait(false);
                sent = 0;
            }
        }
    }

    private async ValueTask ShutdownSendAsync()
    {
        if (_stream is SslStream ssl)
        {
            await ssl.ShutdownAsync().ConfigureAwait(false);
        }

        _socket?.Shutdown(SocketShutdown.Send);
        if (_socket is null && _stream is IHalfClosableStream inMemory)
        {
            inMemory.ShutdownSend();
        }
    }
}
