using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;

namespace Wevis.Transport;

/// <summary>
/// One TCP (or TLS) connection carrying Wevis frames both ways: a receive loop that decodes whole frames and
/// hands them to a handler in batches, an outgoing <see cref="SendQueue"/>, and closing. Used by the server's
/// sessions and by the client alike; it knows nothing of logins or rooms.
/// </summary>
/// <remarks>
/// <para>Receiving reads a plain socket directly into a <see cref="SocketReceiveBuffer"/> (small while the
/// connection is quiet), and a TLS stream through a <see cref="PipeReader"/> with zero-byte reads. It reads only
/// when the previous batch is handled, so a slow handler pushes back on the peer through TCP instead of growing
/// memory.</para>
/// <para>Closing is graceful unless aborted: everything queued is written, then the send side is shut (FIN), and
/// the connection reads and ignores whatever still arrives until the peer closes its side too, at most
/// <see cref="LingerTimeout"/>. Only then is the socket closed, so the peer receives all of it: closing a socket
/// with unread input or unsent output would reset the connection and lose what the peer had not yet read.</para>
/// </remarks>
internal sealed partial class MessageConnection : IAsyncDisposable
{
    /// <summary>How long a graceful close waits for the peer to close its side before cutting the connection.</summary>
    public static readonly TimeSpan LingerTimeout = TimeSpan.FromSeconds(3);

    /// <summary>The shorter wait for a peer that is being closed for misbehaving: enough to deliver the reason.</summary>
    public static readonly TimeSpan MisbehaviourLingerTimeout = TimeSpan.FromMilliseconds(500);

    private readonly Stream _stream;
    private readonly Socket? _socket;
    private readonly Socket? _plainSocket;
    private readonly PipeReader? _input;
    private readonly SocketReceiveBuffer? _receiveBuffer;
    private readonly FrameDecoder _decoder;
    private readonly SendQueue _output;
    private readonly TimeProvider _time;
    private bool _receivedEnd;
    private bool _aborted;
    private ITimer? _lingerTimer;
    private TimeSpan _linger = LingerTimeout;
    private int _closing;
    private string? _closeReason;
    private long _lastReceived;

    /// <param name="stream">The connection's stream: the socket's, or TLS over it.</param>
    /// <param name="socket">The socket under the stream, if there is one.</param>
    /// <param name="registry">The message types spoken, the protocol's own included.</param>
    /// <param name="limits">The frame and queue limits.</param>
    /// <param name="flushGroup">Dispatch batches of this group defer this connection's flushes (<see cref="FlushBatch"/>).</param>
    /// <param name="time">The clock for the receive time stamps and the close's linger.</param>
    public MessageConnection(Stream stream, Socket? socket, MessageRegistry registry, ConnectionLimits limits, object flushGroup, TimeProvider time)
    {
        _stream = stream;
        _socket = socket;
        _time = time;
        _plainSocket = stream is NetworkStream ? socket : null;
        RemoteEndPoint = SafeRemoteEndPoint(socket);
        Limits = limits;
        _decoder = new FrameDecoder(registry, limits.MaxFrameSize);
        _output = new SendQueue(stream, socket, registry, limits, flushGroup, Abort);
        if (_plainSocket is not null)
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

        _lastReceived = time.GetTimestamp();
    }

    /// <summary>The limits this connection enforces.</summary>
    public ConnectionLimits Limits { get; }

    /// <summary>Counts what this connection receives and sends, on a server; null (the default) counts nothing.</summary>
    public Diagnostics.ServerMetrics? Metrics
    {
        get => _decoder.Metrics;
        set
        {
            _decoder.Metrics = value;
            _output.Metrics = value;
        }
    }

    /// <summary>The largest frame accepted from the peer now; smaller until the peer has logged in.</summary>
    public int MaxIncomingFrameSize
    {
        get => _decoder.MaxFrameSize;
        set => _decoder.MaxFrameSize = value;
    }

    /// <summary>The peer's address.</summary>
    public EndPoint? RemoteEndPoint { get; }

    /// <summary>When a batch of frames last arrived, as a time stamp of the connection's <see cref="TimeProvider"/>.</summary>
    public long LastReceivedTimestamp => Volatile.Read(ref _lastReceived);

    /// <summary>The bytes of the batch being handled (its frames, prefixes included); for its handler, on the receive loop.</summary>
    public long BatchBytes => _decoder.BatchBytes;

    /// <summary>Whether <see cref="Close"/> or <see cref="Abort"/> has been called.</summary>
    public bool IsClosing => Volatile.Read(ref _closing) != 0;

    /// <summary>Why the connection is closing, once it is.</summary>
    public string? CloseReason => Volatile.Read(ref _closeReason);

    /// <summary>Whether the connection was dropped because more than <see cref="ConnectionLimits.MaxQueuedBytes"/> waited to be sent.</summary>
    public bool QueueLimitExceeded => _output.QueueLimitExceeded;

    /// <summary>Bytes queued for sending that the socket has not taken yet.</summary>
    public long QueuedBytes => _output.QueuedBytes;

    /// <summary>Starts sending (what was queued before goes out now).</summary>
    public void Start() => _output.Start();

    /// <summary>
    /// Queues <paramref name="message"/> for sending; it is flushed at once, or at the end of the current dispatch
    /// batch. Returns false if the connection is closing (the message is dropped).
    /// </summary>
    /// <exception cref="ArgumentException">The message is not in this connection's registry or is over the frame limit.</exception>
    public bool TrySend(IMessage message) => _output.TrySend(message);

    /// <summary>Queues an encoded frame (prefix included), as <see cref="TrySend"/> does.</summary>
    public bool TrySendFrame(ReadOnlySpan<byte> frame) => _output.TrySendFrame(frame);

    /// <summary>Makes everything queued ready to send, and sends it unless a send is under way (which takes it next).</summary>
    public void Flush() => _output.Flush();

    /// <summary>For tests: how many times what was queued has been flushed (<see cref="SendQueue.FlushCount"/>).</summary>
    internal long FlushCount => _output.FlushCount;

    /// <summary>
    /// Makes this connection carry a resumable session: the frames of <paramref name="log"/> after the peer's
    /// <paramref name="peerReceived"/> are queued first, and every sequenced frame sent from now on is logged
    /// (<see cref="ReplayLog"/>). Returns false if they cannot be replayed or the connection is closing.
    /// </summary>
    public bool Replay(ReplayLog log, long peerReceived) => _output.Replay(log, peerReceived);

    /// <summary>
    /// Receives until the peer closes, the connection is closed, or the peer breaks the protocol, handing each
    /// read's whole frames to <paramref name="handler"/>. Returns why it stopped; never throws for network errors.
    /// </summary>
    public Task<ReceiveOutcome> ReceiveAsync(IMessageBatchHandler handler) =>
        _receiveBuffer is null ? ReceiveFromStreamAsync(_input!, handler)
        : ReceiveThreadName is { } threadName ? ReceiveOnOwnThread(_plainSocket!, _receiveBuffer, handler, threadName)
        : ReceiveFromSocketAsync(_plainSocket!, _receiveBuffer, handler);

    /// <summary>
    /// Set before <see cref="ReceiveAsync"/>: a plain socket connection then receives on a thread of its own with this
    /// name (<see cref="ReceiveOnOwnThread"/>); null (the default) receives on the thread pool. A TLS connection
    /// always receives on the thread pool.
    /// </summary>
    public string? ReceiveThreadName { get; init; }

    private async Task<ReceiveOutcome> ReceiveFromSocketAsync(Socket socket, SocketReceiveBuffer received, IMessageBatchHandler handler)
    {
        try
        {
            while (true)
            {
                // No cancellation token: aborting closes the socket, which ends a pending read; a graceful close
                // reads on until the peer closes its side.
                int read = await socket.ReceiveAsync(received.GetReadSpace(MaxIncomingFrameSize), SocketFlags.None).ConfigureAwait(false);
                ProtocolException? violation = TakeReceivedFrames(received, read);
                if (await HandleFramesAsync(handler, violation, ended: read == 0).ConfigureAwait(false) is { } outcome)
                {
                    return outcome;
                }
            }
        }
        catch (Exception ex) when (NetworkErrors.IsNetworkError(ex))
        {
            return LostOutcome(ex);
        }
        finally
        {
            received.Release();
        }
    }

    /// <summary>Records a read of <paramref name="read"/> bytes (0: the peer closed) and decodes the whole frames it completed into the batch.</summary>
    private ProtocolException? TakeReceivedFrames(SocketReceiveBuffer received, int read)
    {
        received.Received(read);
        ProtocolException? violation = _decoder.TakeFrames(received.Unconsumed.Span, ended: read == 0, out int consumed);
        received.Consume(consumed);
        return violation;
    }

    /// <summary>Why receiving ended on a network error: the close's reason if closing, else the connection was lost.</summary>
    private ReceiveOutcome LostOutcome(Exception ex) =>
        new(IsClosing ? CloseReason ?? ex.Message : "the connection was lost: " + ex.Message);

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

                ProtocolException? violation = _decoder.TakeFrames(ref buffer, result.IsCompleted);
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
        catch (Exception ex) when (NetworkErrors.IsNetworkError(ex))
        {
            return LostOutcome(ex);
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

        List<IMessage> batch = _decoder.Batch;
        if (batch.Count > 0)
        {
            Volatile.Write(ref _lastReceived, _time.GetTimestamp());
            try
            {
                // Frames before a bad one were valid: they are still handled, in order, before closing.
                if (!IsClosing)
                {
                    await handler.HandleBatchAsync(this, batch).ConfigureAwait(false);
                }
            }
            finally
            {
                _decoder.ClearBatch();
            }
        }

        if (violation is not null && !IsClosing)
        {
            return new ReceiveOutcome(violation.Message, IsProtocolViolation: true, _decoder.EndedMidFrame);
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

        _output.Complete(farewell);
        _linger = linger ?? LingerTimeout;
        _lingerTimer = _time.CreateTimer(
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

        // Stopping the receive loop below makes its pending read end as if the peer had closed: that end must not
        // count as the peer's, or disposing would close the socket gracefully instead of resetting it.
        Volatile.Write(ref _aborted, true);
        _output.Cancel();
        StopReceiving();
        try
        {
            _socket?.Close(0);
            _stream.Dispose();
        }
        catch (Exception ex) when (NetworkErrors.IsNetworkError(ex))
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
        long started = _time.GetTimestamp();
        try
        {
            await _output.Completion.WaitAsync(timeout, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Abort($"queued output did not go out within {timeout.TotalSeconds:0.#} s");
        }

        if (_output.SentEnd && !Volatile.Read(ref _receivedEnd))
        {
            // The receive loop ended early (the peer broke the protocol): read on until the peer closes, so the
            // farewell is not lost to a reset.
            TimeSpan left = timeout - _time.GetElapsedTime(started);
            await DrainUntilPeerClosesAsync(left < _linger ? (left > TimeSpan.Zero ? left : TimeSpan.Zero) : _linger).ConfigureAwait(false);
        }

        await DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Releases the connection: closes the socket normally if both sides have closed, else cuts it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_output.SentEnd && Volatile.Read(ref _receivedEnd) && !Volatile.Read(ref _aborted))
        {
            try
            {
                _stream.Dispose();
                _socket?.Dispose();
            }
            catch (Exception ex) when (NetworkErrors.IsNetworkError(ex))
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
            await _output.Completion.ConfigureAwait(false);
        }
        catch (Exception ex) when (NetworkErrors.IsNetworkError(ex))
        {
            // Sending reports its own errors by aborting.
        }

        if (_input is not null)
        {
            await _input.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Reads and ignores input until the peer closes its side or <paramref name="timeout"/> passes.</summary>
    private async ValueTask DrainUntilPeerClosesAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout, _time);
        try
        {
            if (_plainSocket is not null)
            {
                byte[] scratch = new byte[1024];
                while (await _plainSocket.ReceiveAsync(scratch, SocketFlags.None, cancel.Token).ConfigureAwait(false) > 0)
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
        catch (Exception ex) when (NetworkErrors.IsNetworkError(ex))
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
            _plainSocket?.Shutdown(SocketShutdown.Receive);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }
    }

    private static EndPoint? SafeRemoteEndPoint(Socket? socket)
    {
        try
        {
            return socket?.RemoteEndPoint;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return null;
        }
    }
}
