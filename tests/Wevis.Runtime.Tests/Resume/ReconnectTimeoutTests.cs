using System.Net;
using System.Net.Sockets;
using Wevis.Protocol;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Messages;

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

    [Fact]
    public async Task AnAcceptanceHandledAsTheLastAttemptIsCutShortIsNotAResumeToo()
    {
        // A server by hand, and the client's clock fake. The second connection's acceptance is taken by its receive
        // loop (the replay of the client's unacknowledged message, sent just before the acceptance is handled, tells
        // the test so), which is then held at the attempt's decision (ReconnectAttempt.TryAccept) by the client's
        // LifecycleLock, held here. The attempt's time, the last 2 s of the reconnect timeout, runs out on the thread
        // holding the lock: the reconnecting task decides on it at once (the timeout's continuation runs on the thread
        // that advances the clock). Before the
        // fix it saw no login and gave up while the receive loop had already counted the resume; let go, the loop
        // found the cut connection logged in and started a second reconnecting task (a second Dropped).
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var clock = new TestClock();
        var client = new Client("user1", "pw", TestServer.Version, "127.0.0.1", port, new ClientOptions
        {
            TimeProvider = clock,
            ResumeSessions = true,
            ServerTimeout = Timeout.InfiniteTimeSpan,
            ReconnectDelay = TimeSpan.FromSeconds(1),
            MaxReconnectDelay = TimeSpan.FromSeconds(1),
            ReconnectTimeout = TimeSpan.FromSeconds(3),
            ConnectTimeout = TimeSpan.FromMinutes(1),
        });
        int dropped = 0;
        int resumed = 0;
        var gaveUp = new TaskCompletionSource<(string Reason, long ResumeCount)>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Dropped += (_, _) => Interlocked.Increment(ref dropped);
        client.Resumed += (_, _) => Interlocked.Increment(ref resumed);
        client.GaveUp += (_, e) => gaveUp.TrySetResult((e.Reason, client.ResumeCount));
        try
        {
            Task connecting = client.ConnectAsync();
            using (RawPeer first = RawPeer.Wrap(await listener.AcceptSocketAsync().Within()))
            {
                await AcceptAsync(first);
                await connecting.Within();
                client.Send(new Numbered(1));
                Assert.IsType<Numbered>(await first.ReceiveAsync());
                first.Socket.LingerState = new LingerOption(true, 0);
            }

            await clock.WaitForTimersAsync(d => d >= TimeSpan.FromSeconds(0.5) && d <= TimeSpan.FromSeconds(1), 1, "the reconnect delay");
            clock.Advance(TimeSpan.FromSeconds(1));
            using RawPeer second = RawPeer.Wrap(await listener.AcceptSocketAsync().Within());

            Lock lifecycleLock = client.LifecycleLock;
            using var held = new ManualResetEventSlim();
            using var timeRunsOut = new ManualResetEventSlim();
            var holder = new Thread(() =>
            {
                lifecycleLock.Enter();
                try
                {
                    held.Set();
                    if (timeRunsOut.Wait(Bounded.DefaultTimeout))
                    {
                        clock.Advance(TimeSpan.FromSeconds(2));
                    }
                }
                finally
                {
                    lifecycleLock.Exit();
                }
            });
            holder.Start();
            Assert.True(held.Wait(Bounded.DefaultTimeout));

            await AcceptAsync(second);
            Assert.IsType<Numbered>(await second.ReceiveAsync());
            timeRunsOut.Set();

            (string reason, long resumeCount) = await gaveUp.Task.Within(what: "GaveUp");
            Assert.Equal("could not resume the session within 3 s: the attempt did not finish within 2 s", reason);
            Assert.Equal(0, resumeCount);
            Assert.True(holder.Join(Bounded.DefaultTimeout));
        }
        finally
        {
            await clock.RunUntilAsync(client.DisposeAsync().AsTask());
        }

        Assert.Equal(0, client.ResumeCount);
        Assert.Equal(0, Volatile.Read(ref resumed));
        Assert.Equal(1, Volatile.Read(ref dropped));
    }

    /// <summary>The server's side of a resumable login on <paramref name="server"/>, by hand: accepted, nothing yet handled.</summary>
    private static async Task AcceptAsync(RawPeer server)
    {
        Assert.IsType<Hello>(await server.ReceiveAsync());
        await server.SendAsync(new Welcome(WireProtocol.Version, "salt", WevisRegistry.Messages.Fingerprint));
        Assert.IsType<Wevis.Protocol.Resume>(await server.ReceiveAsync());
        Assert.IsType<Login>(await server.ReceiveAsync());
        await server.SendRawAsync([.. RawPeer.Frame(new Resumed("TokenTokenTokenTokenAA", 0)), .. RawPeer.Frame(new LoginAccepted())]);
    }
}
