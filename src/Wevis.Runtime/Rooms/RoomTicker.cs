namespace Wevis.Rooms;

/// <summary>
/// Calls a room's tick at a fixed rate on the server's clock. A tick that falls due while the previous one is still
/// waiting for the room or running is skipped and counted, so a slow room falls behind instead of piling ticks up.
/// </summary>
internal sealed class RoomTicker : IDisposable
{
    private readonly Room _room;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private long _number;
    private long _skipped;
    private long _last;
    private int _running;
    private bool _disposed;

    public RoomTicker(Room room, TimeSpan interval)
    {
        _room = room;
        _interval = interval;
        _time = room.Directory.Time;
        _last = _time.GetTimestamp();
        _timer = _time.CreateTimer(static state => ((RoomTicker)state!).OnTimer(), this, interval, interval);
    }

    public void Dispose()
    {
        Volatile.Write(ref _disposed, true);
        _timer.Dispose();
    }

    private void OnTimer()
    {
        if (Volatile.Read(ref _disposed))
        {
            return;
        }

        if (Interlocked.Exchange(ref _running, 1) != 0)
        {
            Interlocked.Increment(ref _skipped);
            return;
        }

        long now = _time.GetTimestamp();
        var tick = new RoomTick(++_number, _interval, _time.GetElapsedTime(_last, now), Interlocked.Exchange(ref _skipped, 0));
        _last = now;
        ValueTask running = _room.RunTickAsync(tick);
        if (running.IsCompletedSuccessfully)
        {
            Volatile.Write(ref _running, 0);
        }
        else
        {
            _ = FinishAsync(running);
        }
    }

    private async Task FinishAsync(ValueTask running)
    {
        try
        {
            await running.ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }
}
