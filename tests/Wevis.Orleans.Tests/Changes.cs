using System.Runtime.CompilerServices;
using Wevis.Tests.Shared;

namespace Wevis.Orleans.Tests;

/// <summary>
/// Wakes a test each time hooks change some state it watches (<see cref="Signal"/>, called after the change), so it
/// waits for a condition on that state by checking it at each change, not on a timer.
/// </summary>
internal sealed class Changes
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The watched state has changed: waiters check their condition again.</summary>
    public void Signal() =>
        Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>
    /// Completes once <paramref name="holds"/> is true, checked now and after each change; fails after
    /// <paramref name="timeout"/> (<see cref="Bounded.DefaultTimeout"/>) naming what did not happen.
    /// </summary>
    public async Task Until(Func<bool> holds, TimeSpan? timeout = null, [CallerArgumentExpression(nameof(holds))] string what = "")
    {
        TimeSpan limit = timeout ?? Bounded.DefaultTimeout;
        using var cancel = new CancellationTokenSource(limit);
        while (true)
        {
            // Taken before the check: a change made after the check completes it.
            Task changed = Volatile.Read(ref _next).Task;
            if (holds())
            {
                return;
            }

            try
            {
                await changed.WaitAsync(cancel.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"Waited {limit.TotalSeconds:0.###} s for {what}; it did not come true.");
            }
        }
    }
}
