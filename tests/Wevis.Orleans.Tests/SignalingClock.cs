using Microsoft.Extensions.Time.Testing;

namespace Wevis.Orleans.Tests;

/// <summary>A fake clock that says when a timer is started on it, so a test advances it only once a wait has begun.</summary>
internal sealed class SignalingClock : FakeTimeProvider
{
    public SemaphoreSlim TimerStarted { get; } = new(0);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ITimer timer = base.CreateTimer(callback, state, dueTime, period);
        TimerStarted.Release();
        return timer;
    }
}
