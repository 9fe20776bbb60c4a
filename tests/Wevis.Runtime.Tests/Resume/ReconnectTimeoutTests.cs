using Wevis.Runtime.Tests.Infrastructure;

namespace Wevis.Runtime.Tests.Resume;

/// <summary>Giving up on a resume: when <see cref="ClientOptions.ReconnectTimeout"/> has passed, not later.</summary>
public class ReconnectTimeoutTests
{
    [Fact]
    public async Task AnAttemptUnderWayWhenTheReconnectTimeoutEndsDoesNotDelayGivingUp()
    {
        // The client's clock is fake: the reconnect delay (1-2 s with jitter), then an attempt that hangs (the proxy
        // lets one byte of the welcome through, then nothing), with 2.5 s of the 4.5 s left and a connect timeout of a
        // minute. GaveUp must come once the 4.5 s have passed, not when the attempt's own minute runs out.
        var room = new ResumeRoom();
        var clock = new TestClock();
        await using TestServer server = await ResumeExchange.StartServerAsync(room);
        var attempting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var proxy = new FaultProxy(server.Port, plan: index =>
        {
            if (index == 0)
            {
                return null;
            }

            attempting.TrySetResult();
            return new FaultPlan(FaultDirection.ServerToClient, 1, FaultKind.BlackHole);
        });
        Client client = ResumeExchange.CreateClient(server, proxy.Port, "user1", configure: o =>
        {
            o.TimeProvider = clock;
            o.ServerTimeout = Timeout.InfiniteTimeSpan;
            o.ReconnectDelay = o.MaxReconnectDelay = TimeSpan.FromSeconds(2);
            o.ReconnectTimeout = TimeSpan.FromSeconds(4.5);
            o.ConnectTimeout = TimeSpan.FromMinutes(1);
        });
        var gaveUp = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.GaveUp += (_, e) => gaveUp.TrySetResult(e.Reason);
        await client.ConnectAsync().Within();

        proxy.BreakAll(FaultKind.Reset);
        await clock.WaitForTimersAsync(d => d >= TimeSpan.FromSeconds(1) && d <= TimeSpan.FromSeconds(2), 1, "the first reconnect delay");
        clock.Advance(TimeSpan.FromSeconds(2));
        await attempting.Task.Within();

        clock.Advance(TimeSpan.FromSeconds(2.6));

        Assert.Equal(
            "could not resume the session within 4.5 s: the attempt did not finish within 2.5 s",
            await gaveUp.Task.Within(what: "GaveUp, once the reconnect timeout has passed"));
        Assert.False(client.IsConnected);
        await clock.RunUntilAsync(client.DisposeAsync().AsTask());
    }
}
