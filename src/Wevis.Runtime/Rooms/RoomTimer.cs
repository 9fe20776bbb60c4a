namespace Wevis.Rooms;

/// <summary>An action a room scheduled (<c>Room.Schedule</c>): it runs in the room's turn, on the server's clock.</summary>
internal sealed class RoomTimer : IDisposable
{
    private readonly Room _room;
    private readonly Func<ValueTask> _action;
    private readonly bool _repeats;
    private readonly ITimer _timer;
    private int _disposed;

    public RoomTimer(Room room, TimeSpan due, TimeSpan period, Func<ValueTask> action, TimeProvider time)
    {
        _room = room;
        _action = action;
        _repeats = period != Timeout.InfiniteTimeSpan;
        _timer = time.CreateTimer(static state => ((RoomTimer)state!).OnTimer(), this, due, period);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _timer.Dispose();
            _room.RemoveTimer(this);
        }
    }

    private void OnTimer()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        if (!_repeats)
        {
            Dispose();
        }

        _ = _room.RunTimerAsync(_action);
    }
}
