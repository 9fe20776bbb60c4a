using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using MessagePack;

namespace Wevis.Transport;

/// <summary>
/// The sending half of a <see cref="MessageConnection"/>: frames are encoded into an outgoing <see cref="Pipe"/>
/// under a lock, and a send loop writes what is flushed to the socket.
/// </summary>
/// <remarks>
/// <para>The send loop is scheduled inline: it writes on the flushing thread when it is idle (once that thread has
/// let go of the queue's lock, <see cref="AfterLockScheduler"/>), and otherwise picks up everything queued when its
/// current write ends. Within a dispatch batch of the same flush group, flushing
/// waits for the batch's end, or for <see cref="FlushEveryFrames"/> frames or <see cref="FlushEveryBytes"/> bytes,
/// whichever comes first (<see cref="FlushBatch"/>).</para>
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
    private readonly Pipe _output;
    private readonly MessageRegistry _registry;
    private readonly ConnectionLimits _limits;
    private readonly object _flushGroup;
    private readonly Action<string> _abort;
    private readonly Lock _lock = new();
    private readonly AfterLockScheduler _sendScheduler;
    private readonly List<ArraySegment<byte>> _segments = [];
    private Task _sendLoop = Task.CompletedTask;
    private long _queuedBytes;
    private bool _flushPending;
    private int _framesSinceFlush;
    private long _flushes;
    private bool _queueLimitExceeded;
    private bool _completed;
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
        // Gathered socket writes only when the stream is the socket itself; TLS goes through the stream.
        _gatherSocket = stream is NetworkStream ? socket : null;
        _registry = registry;
        _limits = limits;
        _flushGroup = flushGroup;
        _abort = abort;
        _sendScheduler = new AfterLockScheduler(_lock);
        // Blocks that are reused, not dropped: a broadcast holds one per recipient at once (SendBufferPool).
        _output = new Pipe(new PipeOptions(
            pool: SendBufferPool.Shared,
            readerScheduler: _sendScheduler,
            writerScheduler: PipeScheduler.Inline,
            pauseWriterThreshold: 0,
            resumeWriterThreshold: 0,
            minimumSegmentSize: SendBufferPool.BlockSize,
            useSynchronizationContext: false));
    }

    /// <summary>Counts what is queued and dropped, on a server; null counts nothing.</summary>
    public Diagnostics.ServerMetrics? Metrics { get; set; }

    /// <summary>Whether the queue was dropped because more than <see cref="ConnectionLimits.MaxQueuedBytes"/> waited to be sent.</summary>
    public bool QueueLimitExceeded => Volatile.Read(ref _queueLimitExceeded);

    /// <summary>Bytes queued for sending that the socket has not taken yet.</summary>
    public long QueuedBytes => Interlocked.Read(ref _queuedBytes);

    /// <summary>Whether everything queued was written and the sending side shut (the peer saw the end of the stream).</summary>
    public bool SentEnd => Volatile.Read(ref _sentEnd);

    /// <summary>Completes when the send loop has ended.</summary>
    public Task Completion => _sendLoop;

    /// <summary>Starts the send loop.</summary>
    public void Start() => _sendLoop = SendLoopAsync();

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
    /// into the outgoing pipe: no intermediate buffer and no copy.
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
            _sendScheduler.RunPending();
        }

        return !overLimit || DropForQueueLimit();
    }

    private bool WriteBoundedLocked(IMessage message, MessageDescriptor descriptor)
    {
        {
            PipeWriter output = _output.Writer;
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
                // Part of a frame is in the pipe: the stream can no longer be trusted.
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
                    _output.Writer.Write(frame);
                    // Frames come encoded only from above the session layer (broadcasts, requests, replies): all sequenced.
                    _replay?.Append(frame);
                    Metrics?.SentFrames(frame);
                    overLimit = QueuedLocked(frame.Length);
                }
            }
        }
        finally
        {
            _sendScheduler.RunPending();
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
                long replayed = log.ReplayInto(this, _completed ? null : _output.Writer, peerReceived);
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
            _sendScheduler.RunPending();
        }

        return !overLimit || DropForQueueLimit();
    }

    /// <summary>
    /// Accounts for a frame just written to the pipe and flushes it now, or at the end of the current batch (or
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
                if (_framesSinceFlush >= FlushEveryFrames || _output.Writer.UnflushedBytes >= FlushEveryBytes)
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

    /// <summary>For tests: how many times what was queued has been handed to the send loop.</summary>
    internal long FlushCount => Volatile.Read(ref _flushes);

    /// <summary>Hands everything queued to the send loop.</summary>
    public void Flush()
    {
        lock (_lock)
        {
            _flushPending = false;
            FlushLocked();
        }

        _sendScheduler.RunPending();
    }

    private void FlushLocked()
    {
        _framesSinceFlush = 0;
        if (_completed)
        {
            return;
        }

        _flushes++;

        // Never pauses (pauseWriterThreshold is 0); an idle send loop writes on this thread once the lock is let go.
        ValueTask<FlushResult> flush = _output.Writer.FlushAsync();
        if (!flush.IsCompleted)
        {
            _ = flush.AsTask();
        }
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
                _output.Writer.Write(frame.Frame);
                Interlocked.Add(ref _queuedBytes, frame.Frame.Length);
                FrameBuffer.Return(frame);
            }

            _completed = true;
            _output.Writer.Complete();
        }

        _sendScheduler.RunPending();
    }

    /// <summary>Ends the queue at once, dropping what is queued; the send loop stops without shutting the socket.</summary>
    public void Cancel()
    {
        lock (_lock)
        {
            if (!_completed)
            {
                _completed = true;
                _output.Writer.Complete();
            }
        }

        _sendScheduler.RunPending();
        _output.Reader.CancelPendingRead();
    }

    private async Task SendLoopAsync()
    {
        PipeReader reader = _output.Reader;
        try
        {
            while (true)
            {
                ReadResult result = await reader.ReadAsync().ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                if (result.IsCanceled)
                {
                    break;
                }

                if (!buffer.IsEmpty)
                {
                    await WriteAsync(buffer).ConfigureAwait(false);
                    Interlocked.Add(ref _queuedBytes, -buffer.Length);
                }

                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    // Everything queued is written: say so to the peer, which then sees the end of the stream.
                    await ShutdownSendAsync().ConfigureAwait(false);
                    Volatile.Write(ref _sentEnd, true);
                    break;
                }
            }
        }
        catch (Exception ex) when (NetworkErrors.IsNetworkError(ex))
        {
            _abort("the connection was lost while sending: " + ex.Message);
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    private async ValueTask WriteAsync(ReadOnlySequence<byte> buffer)
    {
        if (buffer.IsSingleSegment || _gatherSocket is null)
        {
            foreach (ReadOnlyMemory<byte> segment in buffer)
            {
                await _stream.WriteAsync(segment).ConfigureAwait(false);
            }

            return;
        }

        // Several segments: one gathered send instead of one system call each.
        _segments.Clear();
        foreach (ReadOnlyMemory<byte> segment in buffer)
        {
            if (!MemoryMarshal.TryGetArray(segment, out ArraySegment<byte> array))
            {
                array = segment.ToArray();
            }

            _segments.Add(array);
        }

        int sent = await _gatherSocket.SendAsync(_segments, SocketFlags.None).ConfigureAwait(false);
        if (sent < buffer.Length)
        {
            foreach (ReadOnlyMemory<byte> rest in buffer.Slice(sent))
            {
                await _stream.WriteAsync(rest).ConfigureAwait(false);
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
