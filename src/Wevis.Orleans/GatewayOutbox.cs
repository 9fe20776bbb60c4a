using System.Buffers;
using Microsoft.Extensions.Logging;

namespace Wevis.Orleans;

/// <summary>
/// What one room has for one gateway's users, sent one call at a time so the gateway receives it in the order the
/// room made it: what piles up while a call is under way goes in the next call, so a burst costs few calls.
/// </summary>
/// <remarks>
/// A broadcast sends one frame to each member in turn, so consecutive frames to this gateway's users are often the
/// same bytes: the outbox keeps the last frame record open as a run, and each further session that gets the same
/// frame adds only its number (a <see cref="GatewayRecords.Repeat"/> record, closed by <see cref="EndRepeatLocked"/>
/// before anything else is written). The bytes are compared, not the sender's buffer: encode buffers are pooled, so
/// a new frame can sit where the last one did.
/// </remarks>
internal sealed class GatewayOutbox(string roomId, string gatewayId, IGatewayObserver gateway, ILogger logger)
{
    /// <summary>How long a failed call waits before it is made again, each time; past the last, the gateway is taken for gone.</summary>
    private static readonly TimeSpan[] ResendWaits = [TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(2)];

    private readonly Lock _lock = new();
    private ArrayBufferWriter<byte> _pending = new();
    private ArrayBufferWriter<byte> _spare = new();
    private TaskCompletionSource? _idle;
    private bool _dead;

    // The open run: where its frame record starts in _pending (-1: none), and the sessions after the record's own.
    private int _runStart = -1;
    private long[] _runMore = new long[16];
    private int _runCount;

    public string GatewayId => gatewayId;

    /// <summary>Whether the gateway is taken for gone: a call to it failed past its resends, or its silo died.</summary>
    public bool IsDead => Volatile.Read(ref _dead);

    public void AddFrame(long session, ReadOnlySpan<byte> frame)
    {
        lock (_lock)
        {
            if (_runStart >= 0 && _runCount < GatewayRecords.MaxRepeat && frame.SequenceEqual(RunFrameLocked()))
            {
                if (_runCount == _runMore.Length)
                {
                    Array.Resize(ref _runMore, _runCount * 2);
                }

                _runMore[_runCount++] = session;
                return;
            }

            EndRepeatLocked();
            _runStart = _pending.WrittenCount;
            GatewayRecords.WriteFrame(_pending, session, frame);
            KickLocked();
        }
    }

    public void AddClose(long session, string reason)
    {
        lock (_lock)
        {
            EndRepeatLocked();
            GatewayRecords.WriteClose(_pending, session, reason);
            KickLocked();
        }
    }

    public void AddMove(long session, ClusterMove move)
    {
        lock (_lock)
        {
            EndRepeatLocked();
            GatewayRecords.WriteMove(_pending, session, move);
            KickLocked();
        }
    }

    /// <summary>Completes when everything added so far has been handed to the gateway (or the gateway is gone).</summary>
    public Task DrainAsync()
    {
        lock (_lock)
        {
            return _idle?.Task ?? Task.CompletedTask;
        }
    }

    /// <summary>The frame of the open run's record.</summary>
    private ReadOnlySpan<byte> RunFrameLocked()
    {
        ReadOnlySpan<byte> record = _pending.WrittenSpan[_runStart..];
        return record[GatewayRecords.FrameHeadSize..];
    }

    /// <summary>Closes the open run: a frame record that more sessions share becomes a repeat record listing them.</summary>
    private void EndRepeatLocked()
    {
        if (_runCount > 0)
        {
            GatewayRecords.EndRepeat(_pending, _runStart, _runMore.AsSpan(0, _runCount));
        }

        _runStart = -1;
        _runCount = 0;
    }

    private void KickLocked()
    {
        if (_dead)
        {
            _pending.ResetWrittenCount();
            _runStart = -1;
            _runCount = 0;
            return;
        }

        if (_idle is null)
        {
            _idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

            // Off the sender's stack: the rest of a handler's sends join this call.
            ThreadPool.UnsafeQueueUserWorkItem(static outbox => _ = outbox.PumpAsync(), this, preferLocal: false);
        }
    }

    /// <summary>
    /// The gateway is known to be gone (its silo died): what is pending is dropped, and nothing more is sent or sent again.
    /// </summary>
    public void Stop()
    {
        lock (_lock)
        {
            _dead = true;
            _pending.ResetWrittenCount();
            _runStart = -1;
            _runCount = 0;
        }
    }

    private async Task PumpAsync()
    {
        byte[]? failed = null;
        int attempt = 0;
        while (true)
        {
            byte[] records;
            lock (_lock)
            {
                EndRepeatLocked();
                if ((failed is null && _pending.WrittenCount == 0) || _dead)
                {
                    _pending.ResetWrittenCount();
                    _idle!.TrySetResult();
                    _idle = null;
                    return;
                }

                if (failed is not null)
                {
                    // Sent again first: what piled up meanwhile follows it, so the gateway keeps the room's order.
                    records = failed;
                }
                else
                {
                    records = _pending.WrittenSpan.ToArray();
                    (_pending, _spare) = (_spare, _pending);
                    _pending.ResetWrittenCount();
                }
            }

            try
            {
                await gateway.Receive(records).ConfigureAwait(false);
                (failed, attempt) = (null, 0);
            }
            catch (Exception ex) when (attempt < ResendWaits.Length && DidNotRun(ex))
            {
                // A living gateway's call can fail (a message refused, a call filter's fault): one failure must not
                // cut its users off from the room for good, and no GatewayGone would ever come to tell them.
                OrleansLog.GatewayCallFailed(logger, ex, roomId, gatewayId, attempt + 1);
                failed = records;
                await Task.Delay(ResendWaits[attempt++]).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                OrleansLog.GatewayUnreachable(logger, ex, roomId, gatewayId);
                Volatile.Write(ref _dead, true);
                failed = null;
            }
        }
    }

    /// <summary>
    /// Whether a failed call certainly did not hand the gateway any of its records, so sending it again repeats no frame
    /// (frames carry no number the gateway could check). A timeout may have run; a malformed record was read part way;
    /// a dead silo is gone (its rooms hear of it). The gateway's <c>Receive</c> itself throws only on malformed records.
    /// </summary>
    private static bool DidNotRun(Exception ex) => ex is not (TimeoutException or InvalidDataException or SiloUnavailableException);
}
