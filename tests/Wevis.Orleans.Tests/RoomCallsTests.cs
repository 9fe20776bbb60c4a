using Microsoft.Extensions.Time.Testing;
using Orleans.Runtime;
using Wevis.Tests.Shared;

namespace Wevis.Orleans.Tests;

/// <summary>The waits between a gateway's or room's calls made again, on the node's clock.</summary>
public sealed class RoomCallsTests
{
    [Fact]
    public async Task ACallRefusedByAGoneSiloIsMadeAgainOnlyOnceItsWaitHasRunOutOnTheClockItIsGiven()
    {
        var clock = new SignalingClock();
        int calls = 0;
        Task<int> call = RoomCalls.CallAsync(
            () => Interlocked.Increment(ref calls) == 1 ? Task.FromException<int>(new SiloUnavailableException("gone")) : Task.FromResult(7),
            clock);

        // The refusal's wait (100 ms) is started on this clock, and the call is made again only once it has run out.
        await clock.TimerStarted.WaitAsync(TimeSpan.FromSeconds(10));
        clock.Advance(TimeSpan.FromMilliseconds(99));
        Assert.Equal(1, Volatile.Read(ref calls));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(7, await call.Within());
        Assert.Equal(2, Volatile.Read(ref calls));
    }
}
