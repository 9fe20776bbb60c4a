using Microsoft.Extensions.Time.Testing;

namespace Wevis.Runtime.Tests.Infrastructure;

/// <summary>
/// A fake clock (<see cref="FakeTimeProvider"/>) for a server or client under test, which also tells when a timer
/// is started on it: a test moves time on only once the code under test has started the clock it means to run
/// out, so the test neither sleeps nor races it. Time moves only when <see cref="FakeTimeProvider.Advance"/> is
/// called, and the timers that fall due run then, on the caller's thread.
/// </summary>
internal sealed class TestClock : FakeTimeProvider
{
    private readonly Lock _lock = new();
    private readonly List<TimeSpan> _started = [];
    private readonly Dictionary<TimeSpan, int> _fired = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <inheritdoc/>
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        // Counted as they fire, by period: a test can tell that a timer it expects gone never ran at all.
        ITimer timer = base.CreateTimer(
            s =>
            {
                lock (_lock)
                {
                    _fired[period] = _fired.GetValueOrDefault(period) + 1;
                }

                callback(s);
            },
            state,
            dueTime,
            period);
        TaskCompletionSource changed;
        lock (_lock)
        {
            _started.Add(dueTime);
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
        return timer;
    }

    /// <summary>How many times timers started with <paramref name="period"/> have fired (each run of a repeating timer counts).</summary>
    public int FiredCount(TimeSpan period)
    {
        lock (_lock)
        {
            return _fired.GetValueOrDefault(period);
        }
    }

    /// <summary>
    /// For a test's teardown: moves the clock on a second at a time, a few times a (real) second, until
    /// <paramref name="task"/> ends (a client stopping, say, which waits on this clock for its peer), at most a
    /// minute of this clock's time. A test that failed half-way then fails with its own message, not a hang.
    /// </summary>
    public async Task RunUntilAsync(Task task, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(task))] string what = "")
    {
        for (int i = 0; i < 60 && !task.IsCompleted; i++)
        {
            await Task.WhenAny(task, Task.Delay(20));
            Advance(TimeSpan.FromSeconds(1));
        }

        await task.Within(what: what);
    }

    /// <summary>
    /// Waits (bounded) until <paramref name="count"/> timers due after <paramref name="dueTime"/> have been started
    /// on this clock since it was made: a login timeout, a linger, a wait on stop.
    /// </summary>
    public Task WaitForTimersAsync(TimeSpan dueTime, int count = 1, string? what = null) =>
        WaitForTimersAsync(d => d == dueTime, count, what ?? $"a timeout of {dueTime.TotalMilliseconds} ms");

    /// <summary>
    /// Waits (bounded) until <paramref name="count"/> timers whose due time <paramref name="matches"/> have been
    /// started on this clock since it was made: a delay drawn with jitter, whose exact length the test cannot know.
    /// </summary>
    public async Task WaitForTimersAsync(Func<TimeSpan, bool> matches, int count, string what)
    {
        using var cancel = new CancellationTokenSource(Bounded.DefaultTimeout);
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (_started.Count(matches) >= count)
                {
                    return;
                }

                changed = _changed.Task;
            }

            try
            {
                await changed.WaitAsync(cancel.Token);
            }
            catch (OperationCanceledException)
            {
                string started;
                lock (_lock)
                {
                    started = string.Join(", ", _started.Select(d => d == Timeout.InfiniteTimeSpan ? "infinite" : $"{d.TotalMilliseconds} ms"));
                }

                throw new TimeoutException(
                    $"Waited {Bounded.DefaultTimeout.TotalSeconds} s for {count} timer(s) ({what}) to start; started: [{started}].");
            }
        }
    }
}
