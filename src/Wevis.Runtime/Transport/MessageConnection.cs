using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Authentication;
using MessagePack;
using Wevis.Serialization;

namespace Wevis.Transport;

/// <summary>
/// One TCP (or TLS) connection carrying Wevis frames both ways: a receive loop that decodes whole frames and
/// hands them to a handler in batches, and an outgoing queue with its own send loop. Shared by the server's
/// connections and the client.
/// </summary>
/// <remarks>
/// <para>Receiving reads the socket through a <see cref="PipeReader"/> with zero-byte reads, so an idle connection
/// holds no receive buffer, and reads only when the previous batch is handled, so a slow handler pushes back on
/// the peer through TCP instead of growing memory.</para>
/// <para>Sending encodes into the outgoing <see cref="Pipe"/> under a lock and flushes; the send loop, scheduled
/// inline, writes to the socket on the flushing thread when it is idle and otherwise picks up everything queued
/// when its current write ends. Within a dispatch batch, flushing waits for the batch's end, or for 256 frames or
/// 64 KiB, whichever comes first (<see cref="FlushBatch"/>). Bytes queued but not yet written are capped: a peer
/// that does not read is disconnected rather than allowed to grow the queue.</para>
/// <para>Closing is graceful unless aborted: everything queued is written, then the send side is shut (FIN), and
/// the connection reads and ignores whatever still arrives until the peer closes its side too, at most
/// <see cref="LingerTimeout"/>. Only then is the socket closed, so the peer receives all of it: closing a socket
/// with unread input or unsent output would reset the connection and lose what the peer had not yet read.</para>
/// </remarks>
internal sealed class MessageConnection : IAsyncDisposable
{
    /// <summary>How long a graceful close waits for the peer to close its side before cutting the connection.</summary>
    public static readonly TimeSpan LingerTimeout = TimeSpan.FromSeconds(3);

    /// <summary>The shorter wait for a peer that is being closed for misbehaving: enough to deliver the reason.</summary>
    public static readonly TimeSpan MisbehaviourLingerTimeout = TimeSpan.FromMilliseconds(500);

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
    private readonly PipeReader? _input;
    private readonly SocketReceiveBuffer? _receiveBuffer;
    private readonly Pipe _output;
    private readonly MessageRegistry _registry;
    private readonly Lock _sendLock = new();
    private readonly List<IMessage> _batch = [];
    private readonly List<ArraySegment<byte>> _segments = [];
    private Task _sendLoop = Task.CompletedTask;
    private long _queuedBytes;
    private bool _flushPending;
    private int _framesSinceFlush;
    private bool _queueLimitExceeded;
    private bool _outputCompleted;
    private bool _sentEnd;
    private bool _receivedEnd;
    private Timer? _lingerTimer;
    private TimeSpan _linger = LingerTimeout;
    private int _closing;
    private string? _closeReason;

    public MessageConnection(Stream stream, Socket? socket, MessageRegistry registry, ConnectionLimits limits)
    {
        _stream = stream;
        _socket = socket;
        // Gathered socket writes only when the stream is the socket itself; TLS goes through the stream.
        _gatherSocket = stream is NetworkStream ? socket : null;
        RemoteEndPoint = socket?.RemoteEndPoint;
        _registry = registry;
        Limits = limits;
        MaxIncomingFrameSize = limits.MaxFrameSize;
        if (_gatherSocket is not null)
        {
            // A plain socket is read directly, into a buffer that stays small while the connection is quiet.
            _receiveBuffer = new SocketReceiveBuffer();
        }
        else
        {
            _input = PipeReader.Create(stream, new StreamPipeReaderOptions(
                pool: MemoryPool<byte>.Shared,
                bufferSize: 16 * 1024,
                minimumReadSize: 4 * 1024,
                leaveOpen: true,
                useZeroByteReads: true));
        }
        _output = new Pipe(new PipeOptions(
            pool: MemoryPool<byte>.Shared,
            readerScheduler: PipeScheduler.Inline,
            writerScheduler: PipeScheduler.Inline,
            pauseWriterThreshold: 0,
            resumeWriterThreshold: 0,
            minimumSegmentSize: 16 * 1024,
            useSynchronizationContext: false));
        LastReceivedTicks = Environment.TickCount64;
    }

    /// <summary>The limits this connection enforces.</summary>
    public ConnectionLimits Limits { get; }

    /// <summary>The largest frame accepted from the peer now; smaller until the peer has logged in.</summary>
    public int MaxIncomingFrameSize { get; set; }

    /// <summary>The peer's address.</summary>
    public EndPoint? RemoteEndPoint { get; }

    /// <summary>When a batch of frames last arrived, as <see cref="Environment.TickCount64"/>.</summary>
    public long LastReceivedTicks { get; private set; }

    /// <summary>Whether <see cref="Close"/> or <see cref="Abort"/> has been called.</summary>
    public bool IsClosing => Volatile.Read(ref _closing) != 0;

    /// <summary>Why the connection is closing, once it is.</summary>
    public string? CloseReason => Volatile.Read(ref _closeReason);

    /// <summary>Whether the connection was dropped because more than <see cref="ConnectionLimits.MaxQueuedBytes"/> waited to be sent.</summary>
    public bool QueueLimitExceeded => Volatile.Read(ref _queueLimitExceeded);

    /// <summary>Bytes queued for sending that the socket has not taken yet.</summary>
    public long QueuedBytes => Interlocked.Read(ref _queuedBytes);

    /// <summary>Starts the send loop.</summary>
    public void Start() => _sendLoop = SendLoopAsync();

    /// <summary>
    /// Queues <paramref name="message"/> for sending; it is flushed at once, or at the end of the current dispatch
    /// batch. Returns false if the connection is closing (the message is dropped).
    /// </summary>
    /// <exception cref="ArgumentException">The message is not in this connection's registry or is over the frame limit.</exception>
    public bool TrySend(IMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        MessageDescriptor descriptor = message.Descriptor;
        if (!_registry.Contains(descriptor))
        {
            throw new ArgumentException(
                $"{descriptor.Name} ({descriptor.MessageType.FullName}) is not one of this connection's message types; "
                + "pass the registry that defines it in the options.",
                nameof(message));
        }

        if (descriptor.MaxBodySize <= Limits.MaxFrameSize)
        {
            return TrySendBounded(message, descriptor);
        }

        FrameBuffer frame = FrameBuffer.Encode(message);
        try
        {
            if (frame.BodyLength > Limits.MaxFrameSize)
            {
                throw new ArgumentException(
                    $"The {descriptor.Name} message is {frame.BodyLength} bytes, over the frame limit of {Limits.MaxFrameSize} bytes.",
                    nameof(message));
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
        lock (_sendLock)
        {
            if (_outputCompleted)
            {
                return false;
            }

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
                Abort($"encoding a {descriptor.Name} message failed");
                throw;
            }

            int frameLength = (int)(output.UnflushedBytes - start);
            BinaryPrimitives.WriteInt32BigEndian(frame.Span, frameLength - FrameReader.HeaderSize);
            overLimit = QueuedLocked(frameLength);
        }

        return !overLimit || DropForQueueLimit();
    }

    /// <summary>Queues an encoded frame (prefix included), as <see cref="TrySend"/> does.</summary>
    public bool TrySendFrame(ReadOnlySpan<byte> frame)
    {
        bool overLimit;
        lock (_sendLock)
        {
            if (_outputCompleted)
            {
                return false;
            }

            _output.Writer.Write(frame);
            overLimit = QueuedLocked(frame.Length);
        }

        return !overLimit || DropForQueueLimit();
    }

    /// <summary>
    /// Accounts for a frame just written to the pipe and flushes it now, or at the end of the current batch (or
    /// early, in a long batch). Returns whether the queue is over its limit. Call under the send lock.
    /// </summary>
    private bool QueuedLocked(int frameLength)
    {
        bool overLimit = Interlocked.Add(ref _queuedBytes, frameLength) > Limits.MaxQueuedBytes;
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
            else if (FlushBatch.Current is { } batch)
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
        Volatile.Write(ref _queueLimitExceeded, true);
        Abort($"more than {Limits.MaxQueuedBytes} bytes were queued for sending: the peer is not reading");
        return false;
    }

    /// <summary>Hands everything queued to the send loop.</summary>
    public void Flush()
    {
        lock (_sendLock)
        {
            _flushPending = false;
            FlushLocked();
        }
    }

    private void FlushLocked()
    {
        _framesSinceFlush = 0;
        if (_outputCompleted)
        {
            return;
        }

        // Never pauses (pauseWriterThreshold is 0); with the inline scheduler an idle send loop writes right here.
        ValueTask<FlushResult> flush = _output.Writer.FlushAsync();
        if (!flush.IsCompleted)
        {
            _ = flush.AsTask();
        }
    }

    /// <summary>
    /// Receives until the peer closes, the connection is closed, or the peer breaks the protocol, handing each
    /// read's whole frames to <paramref name="handler"/>. Returns why it stopped; never throws for network errors.
    /// </summary>
    public Task<ReceiveOutcome> ReceiveAsync(IMessageBatchHandler handler) =>
        _receiveBuffer is not null ? ReceiveFromSocketAsync(_gatherSocket!, _receiveBuffer, handler) : ReceiveFromStreamAsync(_input!, handler);

    private async Task<ReceiveOutcome> ReceiveFromSocketAsync(Socket socket, SocketReceiveBuffer received, IMessageBatchHandler handler)
    {
        try
        {
            while (true)
            {
                // No cancellation token: aborting closes the socket, which ends a pending read; a graceful close
                // reads on until the peer closes its side.
                int read = await socket.ReceiveAsync(received.GetReadSpace(MaxIncomingFrameSize), SocketFlags.None).ConfigureAwait(false);
                received.Received(read);
                ProtocolException? violation = TakeFrames(received.Unconsumed, ended: read == 0, out int consumed);
                received.Consume(consumed);
                if (await HandleFramesAsync(handler, violation, ended: read == 0).ConfigureAwait(false) is { } outcome)
                {
                    return outcome;
                }
            }
        }
        catch (Exception ex) when (IsNetworkError(ex))
        {
            return new ReceiveOutcome(IsClosing ? CloseReason ?? ex.Message : "the connection was lost: " + ex.Message);
        }
        finally
        {
            received.Release();
        }
    }

    private async Task<ReceiveOutcome> ReceiveFromStreamAsync(PipeReader input, IMessageBatchHandler handler)
    {
        try
        {
            while (true)
            {
                // No cancellation token: aborting cancels the pending read instead (CancelPendingRead), which
                // spares every read a token registration; a graceful close reads on until the peer closes.
                ReadResult result = await input.ReadAsync().ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                if (result.IsCanceled)
                {
                    input.AdvanceTo(buffer.Start);
                    return new ReceiveOutcome(CloseReason ?? "the connection was closed");
                }

                ProtocolException? violation = TakeFrames(ref buffer, result.IsCompleted);
                input.AdvanceTo(buffer.Start, buffer.End);
                if (await HandleFramesAsync(handler, violation, result.IsCompleted).ConfigureAwait(false) is { } outcome)
                {
                    return outcome;
                }
            }
        }
        catch (OperationCanceledException) when (IsClosing)
        {
            return new ReceiveOutcome(CloseReason ?? "the connection was closed");
        }
        catch (Exception ex) when (IsNetworkError(ex))
        {
            return new ReceiveOutcome(IsClosing ? CloseReason ?? ex.Message : "the connection was lost: " + ex.Message);
        }
    }

    /// <summary>
    /// Decodes the whole frames at the front of <paramref name="buffer"/> into the batch and takes them off it.
    /// Returns the violation that stopped decoding, if any: a bad frame, or one cut off by the end of the stream.
    /// </summary>
    private ProtocolException? TakeFrames(ref ReadOnlySequence<byte> buffer, bool ended)
    {
        try
        {
            while (FrameReader.TryReadFrame(ref buffer, MaxIncomingFrameSize, out ReadOnlySequence<byte> body, _registry))
            {
                _batch.Add(MessageSerializer.Read(body, _registry));
            }

            if (ended && !buffer.IsEmpty)
            {
                throw new ProtocolException($"The connection ended in the middle of a frame ({buffer.Length} byte(s) of it arrived).");
            }

            return null;
        }
        catch (ProtocolException ex)
        {
            // Frames before the bad one were valid: they are still handled, in order, before closing.
            return ex;
        }
    }

    /// <summary>
    /// Decodes the whole frames at the front of contiguous <paramref name="buffer"/> into the batch, as the
    /// sequence overload does, without slicing sequences; <paramref name="consumed"/> is how many bytes they took.
    /// </summary>
    private ProtocolException? TakeFrames(ReadOnlyMemory<byte> buffer, bool ended, out int consumed)
    {
        consumed = 0;
        try
        {
            while (FrameReader.TryReadFrame(buffer.Span[consumed..], MaxIncomingFrameSize, out int bodyLength, _registry))
            {
                _batch.Add(MessageSerializer.Read(buffer.Span.Slice(consumed + FrameReader.HeaderSize, bodyLength), _registry));
                consumed += FrameReader.HeaderSize + bodyLength;
            }

            if (ended && consumed < buffer.Length)
            {
                throw new ProtocolException($"The connection ended in the middle of a frame ({buffer.Length - consumed} byte(s) of it arrived).");
            }

            return null;
        }
        catch (ProtocolException ex)
        {
            // Frames before the bad one were valid: they are still handled, in order, before closing.
            return ex;
        }
    }

    /// <summary>
    /// Hands the batch to the handler; returns why receiving ends, or null to read on. Once the connection is
    /// closing, what arrives is dropped and receiving goes on until the peer closes its side.
    /// </summary>
    private async ValueTask<ReceiveOutcome?> HandleFramesAsync(IMessageBatchHandler handler, ProtocolException? violation, bool ended)
    {
        if (ended)
        {
            Volatile.Write(ref _receivedEnd, true);
        }

        if (_batch.Count > 0)
        {
            LastReceivedTicks = Environment.TickCount64;
            try
            {
                if (!IsClosing)
                {
                    await handler.HandleBatchAsync(this, _batch).ConfigureAwait(false);
                }
            }
            finally
            {
                _batch.Clear();
            }
        }

        if (violation is not null && !IsClosing)
        {
            return new ReceiveOutcome(violation.Message, IsProtocolViolation: true);
        }

        if (ended || violation is not null)
        {
            return new ReceiveOutcome(IsClosing ? CloseReason ?? "the connection was closed" : "the peer closed the connection");
        }

        return null;
    }

    /// <summary>
    /// Closes gracefully, once: queues <paramref name="farewell"/> (if any), lets everything queued go out, then
    /// shuts the send side. The receive loop stops handing messages on and ends when the peer closes its side; a
    /// peer that does not within <paramref name="linger"/> (default <see cref="LingerTimeout"/>) is cut off. The
    /// first reason given is the one kept.
    /// </summary>
    public void Close(string reason, IMessage? farewell = null, TimeSpan? linger = null)
    {
        if (Interlocked.CompareExchange(ref _closeReason, reason, null) is not null | Interlocked.Exchange(ref _closing, 1) != 0)
        {
            return;
        }

        lock (_sendLock)
        {
            if (!_outputCompleted)
            {
                if (farewell is not null)
                {
                    FrameBuffer frame = FrameBuffer.Encode(farewell);
                    _output.Writer.Write(frame.Frame);
                    Interlocked.Add(ref _queuedBytes, frame.Frame.Length);
                    FrameBuffer.Return(frame);
                }

                _outputCompleted = true;
                _output.Writer.Complete();
            }
        }

        _linger = linger ?? LingerTimeout;
        _lingerTimer = new Timer(
            static state => ((MessageConnection)state!).Abort("the peer did not close the connection"),
            this,
            _linger,
            Timeout.InfiniteTimeSpan);
    }

    /// <summary>Ends the connection at once, dropping whatever is queued. The first reason given is the one kept.</summary>
    public void Abort(string reason)
    {
        Interlocked.CompareExchange(ref _closeReason, reason, null);
        Volatile.Write(ref _closing, 1);
        lock (_sendLock)
        {
            if (!_outputCompleted)
            {
                _outputCompleted = true;
                _output.Writer.Complete();
            }
        }

        _output.Reader.CancelPendingRead();
        StopReceiving();
        try
        {
            _socket?.Close(0);
            _stream.Dispose();
        }
        catch (Exception ex) when (IsNetworkError(ex))
        {
            // Already gone.
        }
    }

    /// <summary>
    /// Closes gracefully if not already closing, waits up to <paramref name="timeout"/> for queued output to go out
    /// and for the peer to close its side, then releases the connection. Call it once the receive loop has ended.
    /// </summary>
    public async ValueTask CloseAndDisposeAsync(TimeSpan timeout)
    {
        Close(CloseReason ?? "the connection was closed");
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        try
        {
            await _sendLoop.WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Abort($"queued output did not go out within {timeout.TotalSeconds:0.#} s");
        }

        if (Volatile.Read(ref _sentEnd) && !Volatile.Read(ref _receivedEnd))
        {
            // The receive loop ended early (the peer broke the protocol): read on until the peer closes, so the
            // farewell is not lost to a reset.
            long left = Math.Min(deadline - Environment.TickCount64, (long)_linger.TotalMilliseconds);
            await DrainUntilPeerClosesAsync(TimeSpan.FromMilliseconds(Math.Max(left, 0))).ConfigureAwait(false);
        }

        await DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Releases the connection: closes the socket normally if both sides have closed, else cuts it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _sentEnd) && Volatile.Read(ref _receivedEnd))
        {
            try
            {
                _stream.Dispose();
                _socket?.Dispose();
            }
            catch (Exception ex) when (IsNetworkError(ex))
            {
                // Already gone.
            }
        }
        else
        {
            Abort(CloseReason ?? "the connection was disposed");
        }

        _lingerTimer?.Dispose();
        try
        {
            await _sendLoop.ConfigureAwait(false);
        }
        catch (Exception ex) when (IsNetworkError(ex))
        {
            // The send loop reports its own errors by aborting.
        }

        if (_input is not null)
        {
            await _input.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Reads and ignores input until the peer closes its side or <paramref name="timeout"/> passes.</summary>
    private async ValueTask DrainUntilPeerClosesAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            if (_gatherSocket is not null)
            {
                byte[] scratch = new byte[1024];
                while (await _gatherSocket.ReceiveAsync(scratch, SocketFlags.None, cancel.Token).ConfigureAwait(false) > 0)
                {
                }
            }
            else if (_input is not null)
            {
                while (true)
                {
                    ReadResult result = await _input.ReadAsync(cancel.Token).ConfigureAwait(false);
                    _input.AdvanceTo(result.Buffer.End);
                    if (result.IsCompleted || result.IsCanceled)
                    {
                        break;
                    }
                }
            }

            Volatile.Write(ref _receivedEnd, true);
        }
        catch (Exception ex) when (IsNetworkError(ex))
        {
            // Not closed in time, or reset: the connection is cut instead.
        }
    }

    /// <summary>Ends a pending read, so the receive loop sees the connection closing.</summary>
    private void StopReceiving()
    {
        if (_input is not null)
        {
            _input.CancelPendingRead();
            return;
        }

        try
        {
            // A pending receive then completes with 0 bytes; data still arriving is not read.
            _gatherSocket?.Shutdown(SocketShutdown.Receive);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }
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
        catch (Exception ex) when (IsNetworkError(ex))
        {
            Abort("the connection was lost while sending: " + ex.Message);
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
    }

    private static bool IsNetworkError(Exception ex) =>
        ex is IOException or SocketException or ObjectDisposedException or AuthenticationException or InvalidOperationException or OperationCanceledException;
}
