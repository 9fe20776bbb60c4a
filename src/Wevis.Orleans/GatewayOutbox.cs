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
/// <para>
/// Each call is numbered (<see cref="Stream"/>, then 1, 2, …), and a call whose answer does not come (a timeout, a
/// failure) is made again with the same records and number, before anything that piled up meanwhile, for as long as
/// neither the gateway's silo nor this one is dead or leaving (<paramref name="gatewayGone"/>, the cluster's
/// membership): a timed-out call may have run, and the gateway drops a number it has had, so a slow or lossy call to a
/// living gateway costs neither a frame nor a repeat. A dead gateway's users leave when the room hears of the death
/// (GatewayGone).
/// </para>
/// <para>
/// While a call goes unanswered, what waits for the gateway (that call's records and what piled up since) may not pass
/// <paramref name="maxBacklog"/> bytes (the gateway's <see cref="ServerOptions.MaxQueuedBytesPerConnection"/>, as a
/// single server bounds what waits for a peer that does not read): past it the outbox stops as for a dead gateway,
/// frees its backlog, and tells the room (<paramref name="overflowed"/>, off the sender's stack), which ends the stays
/// of that gateway's users there. A gateway that takes its calls is not held to it: it drains the outbox at its pace,
/// and its own connections bound what waits for each client.
/// </para>
/// <para>
/// What waits for such a gateway is bounded by age too (<paramref name="maxAge"/>, the cluster's
/// <see cref="WevisClusterOptions.MaxGatewayBacklogAge"/>, on the clock the outbox is given): once the records of the
/// call being made again were added longer ago than that, the outbox stops in the same way (<see cref="Expired"/>),
/// checked between attempts, so a gateway that never comes back and is never declared dead does not hold a quiet
/// room's few frames forever.
/// </para>
/// </remarks>
internal sealed class GatewayOutbox(
    string roomId,
    string gatewayId,
    IGatewayObserver gateway,
    ILogger logger,
    Func<bool>? gatewayGone = null,
    long maxBacklog = long.MaxValue,
    Action<GatewayOutbox>? overflowed = null,
    TimeProvider? time = null,
    TimeSpan? maxAge = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly TimeSpan _maxAge = maxAge ?? TimeSpan.MaxValue;

    /// <summary>How long a failed call waits before it is made again: these, then the last one each time, on the clock the outbox is given (the node's).</summary>
    private static readonly TimeSpan[] ResendWaits = [TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(2)];

    /// <summary>The number of the last call made (under the lock); the first is 1.</summary>
    private long _sequence;

    private readonly Lock _lock = new();
    private ArrayBufferWriter<byte> _pending = new();
    private ArrayBufferWriter<byte> _spare = new();
    private TaskCompletionSource? _idle;
    private bool _dead;

    /// <summary>The size of the call whose answer did not come and that is being made again (under the lock); 0 while calls are answered.</summary>
    private long _unansweredBytes;
    private bool _overflowed;
    private bool _expired;

    /// <summary>When the first of what is pending now was added, on the outbox's clock (under the lock; valid while something is pending).</summary>
    private long _pendingSince;

    // The open run: where its frame record starts in _pending (-1: none), and the sessions after the record's own.
    private int _runStart = -1;
    private long[] _runMore = new long[16];
    private int _runCount;

    public string GatewayId => gatewayId;

    /// <summary>
    /// Names this outbox's numbered calls at the gateway, which keeps the last number it had from each: random, since
    /// outboxes come and go with rooms' activations on any node, and one made again for a gateway starts at 1.
    /// </summary>
    public long Stream { get; } = Random.Shared.NextInt64(1, long.MaxValue);

    /// <summary>Whether the gateway is taken for gone: its silo is dead or leaving, or its records were malformed.</summary>
    public bool IsDead => Volatile.Read(ref _dead);

    /// <summary>Whether the outbox stopped because more than its bound waited for a gateway that did not take its calls.</summary>
    public bool Overflowed => Volatile.Read(ref _overflowed);

    /// <summary>
    /// Whether it stopped because it held, for a gateway that did not take its calls, records older than
    /// <see cref="MaxAge"/> (then <see cref="Overflowed"/> is true too: the room is told in the same way).
    /// </summary>
    public bool Expired => Volatile.Read(ref _expired);

    /// <summary>The longest a record may wait for the gateway while its calls go unanswered.</summary>
    public TimeSpan MaxAge => _maxAge;

    /// <summary>The most that may wait for the gateway while its calls go unanswered, in bytes.</summary>
    public long MaxBacklog => maxBacklog;

    /// <summary>The bytes waiting for the gateway: the call being made again, and what piled up (for tests and logs).</summary>
    public long Backlog
    {
        get
        {
            lock (_lock)
            {
                return _dead ? 0 : _unansweredBytes + _pending.WrittenCount;
            }
        }
    }

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
            MarkPendingLocked();
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
            MarkPendingLocked();
            GatewayRecords.WriteClose(_pending, session, reason);
            KickLocked();
        }
    }

    public void AddMove(long session, ClusterMove move)
    {
        lock (_lock)
        {
            EndRepeatLocked();
            MarkPendingLocked();
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

    /// <summary>A record is about to be added: if nothing was pending, the pending records' age starts now.</summary>
    private void MarkPendingLocked()
    {
        if (_pending.WrittenCount == 0)
        {
            _pendingSince = _time.GetTimestamp();
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
        if (!_dead && _unansweredBytes > 0 && _unansweredBytes + _pending.WrittenCount > maxBacklog)
        {
            OverflowLocked();
        }

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
    /// More than the bound waits for a gateway that does not take calls: the outbox stops and lets go of its backlog (the
    /// call being made again is dropped at its next attempt), and the room hears of it off this stack (the sender may be
    /// in the room's turn, which ending the users' stays takes).
    /// </summary>
    private void OverflowLocked(bool expired = false)
    {
        _dead = true;
        _overflowed = true;
        _expired = expired;
        _unansweredBytes = 0;
        _pending = new ArrayBufferWriter<byte>();
        _spare = new ArrayBufferWriter<byte>();
        _runStart = -1;
        _runCount = 0;
        if (overflowed is { } tell)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static state => state.Tell(state.Outbox), (Tell: tell, Outbox: this), preferLocal: false);
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
        // The records of a call whose answer did not come, and their number: made again as they were.
        byte[]? unanswered = null;
        long number = 0;
        int attempt = 0;
        long since = 0; // when the oldest of the records being sent was added
        while (true)
        {
            byte[] records;
            lock (_lock)
            {
                EndRepeatLocked();
                if (unanswered is not null && !_dead && _time.GetElapsedTime(since) >= _maxAge)
                {
                    OverflowLocked(expired: true);
                }

                if ((unanswered is null && _pending.WrittenCount == 0) || _dead)
                {
                    _pending.ResetWrittenCount();
                    _idle!.TrySetResult();
                    _idle = null;
                    return;
                }

                if (unanswered is not null)
                {
                    // Sent again first: what piled up meanwhile follows it, so the gateway keeps the room's order.
                    records = unanswered;
                }
                else
                {
                    records = _pending.WrittenSpan.ToArray();
                    since = _pendingSince;
                    number = ++_sequence;
                    (_pending, _spare) = (_spare, _pending);
                    _pending.ResetWrittenCount();
                }
            }

            try
            {
                await gateway.Receive(Stream, number, records).ConfigureAwait(false);
                (unanswered, attempt) = (null, 0);
                lock (_lock)
                {
                    _unansweredBytes = 0;
                }
            }
            catch (Exception ex) when (ex is not InvalidDataException && !(gatewayGone?.Invoke() ?? false))
            {
                // The gateway's silo lives: the call was lost, refused or slow, and may have run. Giving up would cut
                // its users off from the room for good (no GatewayGone comes for a living gateway); the same number
                // again is dropped there if the first did run. Stop (the room heard of a death) ends this.
                OrleansLog.GatewayCallFailed(logger, ex, roomId, gatewayId, attempt + 1);
                unanswered = records;
                lock (_lock)
                {
                    _unansweredBytes = records.Length;
                    if (!_dead && _unansweredBytes + _pending.WrittenCount > maxBacklog)
                    {
                        OverflowLocked();
                    }
                }

                // Not past the records' age bound: checked when the wait is over.
                TimeSpan wait = ResendWaits[Math.Min(attempt++, ResendWaits.Length - 1)];
                TimeSpan left = _maxAge - _time.GetElapsedTime(since);
                if (left > TimeSpan.Zero)
                {
                    await Task.Delay(left < wait ? left : wait, _time).ConfigureAwait(false);
                }
            }
            catch (Exception ex)
            {
                // Dead or leaving (its users leave when the room hears of it), or records it could not read (a bug:
                // sending them again would fail again).
                OrleansLog.GatewayUnreachable(logger, ex, roomId, gatewayId);
                Volatile.Write(ref _dead, true);
                unanswered = null;
            }
        }
    }
}
