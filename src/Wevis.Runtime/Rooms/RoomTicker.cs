namespace Wevis.Rooms;

/// <summary>
/// Calls a room's tick at a fixed rate on the server's clock. Ticks never overlap and never pile up: when ticks
/// fall due while one is still running (waiting for the room, or slow), one more tick runs as soon as it ends, and
/// the others are counted as skipped, so a slow room falls behind instead of queueing ticks without end.
/// </summary>
internal sealed class RoomTicker : IDisposable
{
    private readonly Room _room;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private readonly Lock _lock = new();
    private long _number;
    private long _last;
    private bool _running;
    private long _dueWhileRunning;
    private bool _disposed;

    public RoomTicker(Room room, TimeSpan interval)
    {
        _room = room;
        _interval = interval;
        _time = room.Directory.Time;
        _last = _time.GetTimestamp();
        _timer = _time.CreateTimer(static state => ((RoomTicker)state!).OnTimer(), this, interval, interval);
    }

    /// <summary>Whether the ticker was stopped (disposed): a tick that was waiting for the room's turn then does not run.</summary>
    public bool IsStopped
    {
        get
        {
            lock (_lock)
            {
                return _disposed;
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
        }

        _timer.Dispose();
    }

    private void OnTimer()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            if (_running)
            {
                _dueWhileRunning++;
                return;
            }

            _running = true;
        }

        RunFrom(skipped: 0);
    }

    /// <summary>Runs ticks while they keep falling due during the one before; <paramref name="skipped"/> is the first one's count.</summary>
    private void RunFrom(long skipped)
    {
        while (true)
        {
            long now = _time.GetTimestamp();
            var tick = new RoomTick(++_number, _interval, _time.GetElapsedTime(_last, now), skipped);
            _last = now;
            ValueTask running = _room.RunTickAsync(this, tick);
            if (!running.IsCompletedSuccessfully)
            {
                _ = FinishAsync(running);
                return;
            }

            if (!TakeDue(out skipped))
            {
                return;
            }
        }
    }

    /// <summary>The tick that would have come next: the room's last, when it is disposed with messages held for a tick.</summary>
    public RoomTick Last()
    {
        long now = _time.GetTimestamp();
        return new RoomTick(Interlocked.Increment(ref _number), _interval, _time.GetElapsedTime(_last, now), 0);
    }

    private async Task FinishAsync(ValueTask running)
    {
        try
        {
            await running.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // RunTickAsync logs what a tick throws; nothing else reaches here but a stop.
        }

        if (TakeDue(out long skipped))
        {
            RunFrom(skipped);
        }
    }

    /// <summary>
    /// After a tick: whether another must run at once because ticks fell due meanwhile (all but one of them
    /// <paramref name="skipped"/>); if not, the ticker is idle again.
    /// </summary>
    private bool TakeDue(out long skipped)
    {
        lock (_lock)
        {
            long due = _dueWhileRunning;
            _dueWhileRunning = 0;
            if (due == 0 || _disposed)
            {
                _running = false;
                skipped = 0;
                return false;
            }

            skipped = due - 1;
            return true;
        }
    }
}
