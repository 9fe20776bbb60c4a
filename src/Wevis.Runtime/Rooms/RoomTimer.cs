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

    private bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _timer.Dispose();
            _room.RemoveTimer(this);
        }
    }

    /// <summary>Runs the action; the caller holds the room's turn.</summary>
    public ValueTask RunInTurnAsync()
    {
        // Checked again here, not only when the clock fired: room code holding the turn may have disposed the timer
        // while this waited for it (a quiz resetting its deadline), and a timer disposed in the turn must not run
        // after that. So a one-off timer also counts as spent only here, once it has the turn.
        if (IsDisposed)
        {
            return ValueTask.CompletedTask;
        }

        if (!_repeats)
        {
            Dispose();
        }

        return _action();
    }

    private void OnTimer()
    {
        if (!IsDisposed)
        {
            _ = _room.RunTimerAsync(this);
        }
    }
}
