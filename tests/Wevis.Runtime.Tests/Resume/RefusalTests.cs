using Wevis.Protocol;
using Wevis.Runtime.Tests.Infrastructure;

namespace Wevis.Runtime.Tests.Resume;

/// <summary>
/// Resumes that cannot be: each is refused with its reason, the client gives up with it, and where the session
/// ended the room saw a normal leave. Resuming goes through the login's checks: the throttle and the per-user limit.
/// </summary>
public class RefusalTests
{
    private static readonly TimeSpan ReconnectLater = TimeSpan.FromSeconds(1);

    /// <summary>A resumable client for user1 whose reconnect waits long enough for the test to act in between.</summary>
    private static Client ClientReconnectingLater(TestServer server, int port) =>
        ResumeExchange.CreateClient(server, port, "user1", configure: o => o.ReconnectDelay = o.MaxReconnectDelay = ReconnectLater);

    /// <summary>A server that holds at most 2,048 unacknowledged bytes for a session (and frames of at most 1,024).</summary>
    private static Task<TestServer> StartServerWithSmallBoundAsync(ResumeRoom room) =>
        ResumeExchange.StartServerAsync(room, o =>
        {
            o.MaxFrameSize = 1024;
            o.MaxUnacknowledgedBytes = 2048;
        });

    /// <summary>The reason the client gives when it stops trying to resume.</summary>
    private static Task<string> GaveUpReason(Client client)
    {
        var gaveUp = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.GaveUp += (_, e) => gaveUp.TrySetResult(e.Reason);
        return gaveUp.Task;
    }

    [Fact]
    public async Task AWrongTokenIsRefused()
    {
        var room = new ResumeRoom();
        await using TestServer server = await ResumeExchange.StartServerAsync(room);

        IMessage? answer = await ResumeRawAsync(server, "user1", "AAAAAAAAAAAAAAAAAAAAAA");

        Assert.Equal("resume refused: the resume token is not valid", Assert.IsType<LoginRejected>(answer).Reason);
        Assert.Equal(0, room.EnteredCount("user1"));
    }

    [Fact]
    public async Task AWrongTokenIsLoggedOnceAsARefusedResume()
    {
        await using TestServer server = await ResumeExchange.StartServerAsync(new ResumeRoom());

        Assert.IsType<LoginRejected>(await ResumeRawAsync(server, "user1", "AAAAAAAAAAAAAAAAAAAAAA"));

        // The refusal is logged before the client is told: once, as the resume's (event 27), not also as a login's (21).
        LogEntry refused = Assert.Single(server.Log.Entries, e => e.EventId.Id is 21 or 27);
        Assert.Equal(27, refused.EventId.Id);
        Assert.EndsWith("user1 could not resume: resume refused: the resume token is not valid", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnotherUsersTokenIsRefusedAndTheirSessionGoesOn()
    {
        var room = new ResumeRoom();
        await using TestServer server = await ResumeExchange.StartServerAsync(room);
        await using Client owner = ResumeExchange.CreateClient(server, server.Port, "user1");
        await owner.ConnectAsync().Within();

        IMessage? answer = await ResumeRawAsync(server, "user2", owner.ResumeToken!);

        Assert.Equal("resume refused: the resume token belongs to another user's session", Assert.IsType<LoginRejected>(answer).Reason);
        Assert.Equal(10, await ResumeExchange.RunAsync(owner, 10, 10).Within());
        Assert.Equal(0, room.Leaves);
    }

    [Fact]
    public async Task AfterTheGracePeriodTheUserLeavesAndTheResumeIsRefusedWithWhy()
    {
        var room = new ResumeRoom();
        var clock = new TestClock();
        await using TestServer server = await TestServer.StartAsync(o => o.ResumeGracePeriod = TimeSpan.FromSeconds(30), room, clock: clock);
        await using var proxy = new FaultProxy(server.Port);
        await using Client client = ClientReconnectingLater(server, proxy.Port);
        Task<string> gaveUp = GaveUpReason(client);
        await client.ConnectAsync().Within();

        proxy.BreakAll(FaultKind.Reset);
        await room.FirstDrop.Task.Within();
        Assert.Equal(0, room.Leaves);
        clock.Advance(TimeSpan.FromSeconds(31));
        await room.LeaveOf("user1").Within();

        Assert.Equal("resume refused: the session expired: the client did not come back within the grace period of 30 s", await gaveUp.Within());
        await Assert.ThrowsAsync<ConnectionClosedException>(async () =>
        {
            // What arrived before the drop is still there to read; then the session's end.
            while (true)
            {
                await client.ReceiveAsync();
            }
        }).Within();
        Assert.Equal(1, room.Leaves);
    }

    [Fact]
    public async Task OverTheBufferBoundTheUserLeavesAndTheResumeIsRefusedWithWhy()
    {
        var room = new ResumeRoom { SendOnDrop = 500 };
        await using TestServer server = await StartServerWithSmallBoundAsync(room);
        await using var proxy = new FaultProxy(server.Port);
        await using Client client = ClientReconnectingLater(server, proxy.Port);
        Task<string> gaveUp = GaveUpReason(client);
        await client.ConnectAsync().Within();

        proxy.BreakAll(FaultKind.Reset);
        await room.LeaveOf("user1").Within();

        Assert.Equal(
            "resume refused: the session could not be kept: more than 2048 bytes were waiting for the peer's acknowledgement",
            await gaveUp.Within());
        Assert.Equal(1, room.Leaves);
    }

    [Fact]
    public async Task OverTheBufferBoundWhileConnectedTheSessionEndsWithItsConnectionAndTheRefusalSaysWhy()
    {
        var room = new ResumeRoom();
        await using TestServer server = await StartServerWithSmallBoundAsync(room);
        await using var proxy = new FaultProxy(server.Port);
        await using Client client = ClientReconnectingLater(server, proxy.Port);
        Task<string> gaveUp = GaveUpReason(client);
        await client.ConnectAsync().Within();
        Assert.IsType<Example.ServerReady>(await client.ReceiveAsync().AsTask().Within());

        // Four replies of about 800 bytes asked for at once: the server holds more than 2,048 unacknowledged bytes.
        for (int i = 0; i < 4; i++)
        {
            client.Send(new Example.PleaseMayIHaveSomeFloats(200, 0));
        }

        for (int i = 0; i < 4; i++)
        {
            Assert.IsType<Example.SomeFloats>(await client.ReceiveAsync().AsTask().Within());
        }

        proxy.BreakAll(FaultKind.Reset);
        await room.LeaveOf("user1").Within();

        // Not only that the connection was lost: why the session did not wait for the client.
        string reason = await gaveUp.Within();
        Assert.StartsWith("resume refused: ", reason);
        Assert.EndsWith(", and the session could not be kept: more than 2048 bytes were waiting for the peer's acknowledgement", reason);
    }

    [Fact]
    public async Task TheRoomMayEndADroppedSessionAtOnce()
    {
        var room = new ResumeRoom { EndOnDrop = "no waiting in this room" };
        await using TestServer server = await ResumeExchange.StartServerAsync(room);
        await using var proxy = new FaultProxy(server.Port);
        await using Client client = ClientReconnectingLater(server, proxy.Port);
        Task<string> gaveUp = GaveUpReason(client);
        await client.ConnectAsync().Within();

        proxy.BreakAll(FaultKind.Reset);
        await room.LeaveOf("user1").Within();

        Assert.Equal("resume refused: the session was ended by the server: no waiting in this room", await gaveUp.Within());
    }

    [Fact]
    public async Task StoppingTheClientInAGaveUpHandlerDoesNotWaitForItself()
    {
        // GaveUp is raised on the reconnecting task, which a blocking Stop (or `using`'s Dispose) must not wait for.
        var room = new ResumeRoom { EndOnDrop = "no waiting in this room" };
        await using TestServer server = await ResumeExchange.StartServerAsync(room);
        await using var proxy = new FaultProxy(server.Port);
        Client client = ResumeExchange.CreateClient(server, proxy.Port, "user1");
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.GaveUp += (_, _) =>
        {
            client.Stop();
            stopped.SetResult();
        };
        await client.ConnectAsync().Within();

        proxy.BreakAll(FaultKind.Reset);

        await stopped.Task.Within();
        Assert.False(client.IsConnected);
    }

    [Fact]
    public async Task StoppingTheClientInADroppedHandlerDoesNotWaitForItself()
    {
        // Dropped is raised on the receive loop that is ending: a blocking Stop there must not wait for that loop.
        var room = new ResumeRoom();
        await using TestServer server = await ResumeExchange.StartServerAsync(room);
        await using var proxy = new FaultProxy(server.Port);
        Client client = ResumeExchange.CreateClient(server, proxy.Port, "user1");
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Dropped += (_, _) =>
        {
            client.Stop();
            stopped.SetResult();
        };
        await client.ConnectAsync().Within();

        proxy.BreakAll(FaultKind.Reset);

        await stopped.Task.Within();
        await Assert.ThrowsAsync<ConnectionClosedException>(async () =>
        {
            while (true)
            {
                await client.ReceiveAsync();
            }
        }).Within();
    }

    [Fact]
    public async Task AResumeCountsUnderThePerUserLimit()
    {
        var room = new ResumeRoom();
        await using TestServer server = await ResumeExchange.StartServerAsync(room, o => o.MaxConnectionsPerUser = 1);
        await using var proxy = new FaultProxy(server.Port);
        await using Client client = ClientReconnectingLater(server, proxy.Port);
        Task<string> gaveUp = GaveUpReason(client);
        await client.ConnectAsync().Within();

        proxy.BreakAll(FaultKind.Reset);
        await room.FirstDrop.Task.Within();

        // While the session waits, its user's place is free: another connection takes it, and the resume is refused.
        await using Client other = server.CreateClient("user1", "pw");
        await other.ConnectAsync().Within();

        Assert.Equal("User user1 already has the most connections allowed (1).", await gaveUp.Within());
    }

    [Fact]
    public async Task AResumeThatReplacesAConnectionStillLookingAliveTakesItsPlace()
    {
        var room = new ResumeRoom();
        await using TestServer server = await ResumeExchange.StartServerAsync(room, o =>
        {
            o.MaxConnectionsPerUser = 1;
            o.PingInterval = TimeSpan.FromMinutes(1);
        });
        await using var proxy = new FaultProxy(server.Port);
        await using Client client = ResumeExchange.CreateClient(server, proxy.Port, "user1", configure: o => o.ServerTimeout = TimeSpan.FromSeconds(1));
        await client.ConnectAsync().Within();
        var resumed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Resumed += (_, _) => resumed.TrySetResult();

        // Half-open: the client gives up on the connection first; the server still thinks it alive.
        proxy.BreakAll(FaultKind.BlackHole);
        await resumed.Task.Within();

        Assert.Equal(20, await ResumeExchange.RunAsync(client, 20, 5).Within());
        Assert.Equal(0, room.Leaves);
        Assert.Equal(0, room.DroppedCount);
    }

    [Fact]
    public async Task ResumesWithWrongTokensCountAsFailedLoginsForTheThrottle()
    {
        var room = new ResumeRoom();
        await using TestServer server = await ResumeExchange.StartServerAsync(room, o => o.MaxFailedLoginsPerAddress = 2);

        for (int i = 0; i < 2; i++)
        {
            Assert.IsType<LoginRejected>(await ResumeRawAsync(server, "user1", "guess" + i));
        }

        IMessage? answer = await ResumeRawAsync(server, "user1", "guess3");
        Assert.Equal("Too many failed logins from this address; try again later.", Assert.IsType<LoginRejected>(answer).Reason);
    }

    [Fact]
    public async Task AWrongTokenCountsForTheThrottleEvenWhenTheUserHasNoPlaceLeft()
    {
        // The user is online, holding their only place: a resume with the right password and a wrong token is refused
        // for its token, and counted, before the per-user limit is looked at (which would refuse it without counting,
        // so that guesses at the token of the user's live session would never be throttled).
        var room = new ResumeRoom();
        await using TestServer server = await ResumeExchange.StartServerAsync(room, o =>
        {
            o.MaxConnectionsPerUser = 1;
            o.MaxFailedLoginsPerAddress = 2;
        });
        await using Client owner = ResumeExchange.CreateClient(server, server.Port, "user1");
        await owner.ConnectAsync().Within();

        for (int i = 0; i < 2; i++)
        {
            Assert.Equal("resume refused: the resume token is not valid", Assert.IsType<LoginRejected>(await ResumeRawAsync(server, "user1", "guess" + i)).Reason);
        }

        IMessage? answer = await ResumeRawAsync(server, "user1", "guess3");
        Assert.Equal("Too many failed logins from this address; try again later.", Assert.IsType<LoginRejected>(answer).Reason);
        Assert.Equal(10, await ResumeExchange.RunAsync(owner, 10, 10).Within());
        Assert.Equal(0, room.Leaves);
    }

    [Fact]
    public async Task TheTokenNeverAppearsInTheLogs()
    {
        var room = new ResumeRoom();
        await using TestServer server = await ResumeExchange.StartServerAsync(room);
        await using var proxy = new FaultProxy(server.Port);
        await using Client client = ResumeExchange.CreateClient(server, proxy.Port, "user1");
        await client.ConnectAsync().Within();
        string token = client.ResumeToken!;
        await ResumeExchange.RunAsync(client, 200, 20, n =>
        {
            if (n == 100)
            {
                proxy.BreakAll(FaultKind.Close);
            }
        }).Within();
        Assert.Equal("resume refused: the resume token belongs to another user's session", ((LoginRejected)(await ResumeRawAsync(server, "user2", token))!).Reason);
        await client.DisposeAsync();
        await room.LeaveOf("user1").Within();

        Assert.Equal(1, client.ResumeCount);
        Assert.Equal(16 * 8, Convert.FromBase64String(token.Replace('-', '+').Replace('_', '/') + "==").Length * 8);
        Assert.Contains(server.Log.Entries, e => e.EventId.Id == 25);
        Assert.DoesNotContain(server.Log.Entries, e => e.Message.Contains(token, StringComparison.Ordinal) || (e.Exception?.ToString().Contains(token, StringComparison.Ordinal) ?? false));
    }

    /// <summary>A login by hand that asks to resume <paramref name="token"/>; returns the server's answer.</summary>
    private static async Task<IMessage?> ResumeRawAsync(TestServer server, string user, string token)
    {
        using RawPeer peer = server.CreateRawPeer();
        return await SessionEndTests.ResumeAsync(peer, user, token);
    }
}
