using Wevis.Protocol;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Messages;
using Wevis.Sessions;

namespace Wevis.Runtime.Tests.Resume;

/// <summary>
/// How a resumable session ends, told apart from a drop: the server's code ending it for good, a resume that cannot
/// go on, and a connection that fails. Raw peers on a fake clock, so that nothing is pinged, timed out or lingered
/// out unless the test moves the clock.
/// </summary>
public class SessionEndTests
{
    /// <summary>A server on a fake clock offering resumable sessions, with the throttle off.</summary>
    private static Task<TestServer> StartServerAsync(TimeRoom room, TestClock clock, Action<ServerOptions>? configure = null) =>
        TestServer.StartAsync(o =>
        {
            o.ResumeGracePeriod = TimeSpan.FromSeconds(30);
            o.MaxFailedLoginsPerAddress = 0;
            configure?.Invoke(o);
        }, room, clock: clock);

    [Fact]
    public async Task ASessionTheServerEndedForGoodIsNotDroppedByItsConnectionsEnd()
    {
        // The room closes the user's connection just as that connection is lost: its receive loop looked (no close
        // by the server yet), then the room's Close ended the session for good while it was live (to end when its
        // connection does), and only then does the connection's end report the loss. That end must end the session
        // (the user leaves now) rather than keep it as dropped: a session ended for good is waited for by no one,
        // and would sit in the room for the whole grace period. Played against the sessions in that order.
        var clock = new TestClock();
        var sessions = new ResumableSessions(TimeSpan.FromSeconds(30), 1024 * 1024, TimeSpan.FromMinutes(1), clock, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        using var stream = new MemoryStream();
        var transport = new Wevis.Transport.MessageConnection(stream, null, WevisRegistry.Messages, new Wevis.Transport.ConnectionLimits(1024 * 1024, 1024 * 1024), new object(), clock);
        var login = new ServerLogin(
            (_, _, _, _, _) => ValueTask.FromResult(LoginResult.Reject("no")),
            WevisRegistry.Messages.Fingerprint,
            new LoginRules(TimeSpan.FromSeconds(5), 1, 0, TimeSpan.FromMinutes(1)),
            clock,
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance,
            CancellationToken.None);
        var carrier = new ServerSession(1, transport, login, null!, WevisRegistry.Messages.Fingerprint, new Wevis.Transport.FlushBatch(new object()), clock, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, sessions);
        ResumableSession resumable = sessions.Create(new User("user1"), carrier);

        sessions.EndForGood(resumable, "the session was ended by the server: kicked");

        Assert.False(sessions.TryDrop(resumable, carrier, "the peer reset the connection"), "a session the server ended for good was kept as dropped");
        Assert.Equal(0, sessions.DroppedCount);
    }

    [Fact]
    public void ASecondResumeLandingBetweenAnAdoptionAndItsResumeWinsAndTheFirstIsRefused()
    {
        // A session taken over from elsewhere is published as being resumed by the adopting connection, without its
        // resume gate held; a second resume of it (the client gave up on the first connection) can take it before
        // the first calls TryResume. Played against the sessions in that order: the first must lose, and leave the
        // session to the second, not set it live under itself while the second goes on.
        var clock = new TestClock();
        var sessions = new ResumableSessions(TimeSpan.FromSeconds(30), 1024 * 1024, TimeSpan.FromMinutes(1), clock, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        ServerSession adopter = Carrier(1, clock, sessions);
        ServerSession second = Carrier(2, clock, sessions);
        var found = new SessionElsewhere(new HeldReceiver(), Received: 0, Acknowledged: 0, Frames: [], Refusal: null);
        ResumableSession adopted = sessions.Adopt("TokenTokenTokenTokenAA", new User("user1"), adopter, found, out string? refusal)!;
        Assert.Null(refusal);

        Assert.True(sessions.TryTake(adopted, second, out _));
        Assert.False(sessions.TryResume(adopted, adopter, out string? lost), "the adopting connection took the session back from the resume that took it over");
        Assert.Equal("another connection is resuming the session", lost);
        Assert.Equal(ResumableSession.Phase.Resuming, adopted.State);
        Assert.Same(second, adopted.Resumer);

        Assert.True(sessions.TryResume(adopted, second, out _));
        Assert.Equal(ResumableSession.Phase.Live, adopted.State);
        Assert.Same(second, adopted.Current);
        Assert.Null(adopted.Grace);
    }

    [Fact]
    public async Task ARoomThatClosesAUserWhoseResumeWaitsForItsTurnIsNotToldOfTheResumeAfterItsClose()
    {
        // The resume goes through while the room's turn is taken (another user's message is being handled); in that
        // turn the room closes the resumed user's connection. The resume hook, which waited for the turn, must not
        // run after the room's own close: the room hears only the leave.
        var room = new KickingRoom();
        var clock = new TestClock();
        await using TestServer server = await StartServerAsync(room, clock);
        string token = await LogInThenDropAsync(server, "user1");

        await room.FirstDrop.Task.Within();
        using RawPeer other = server.CreateRawPeer();
        await LogInResumablyAsync(other, "user2");
        await other.SendAsync(new Numbered(0));
        await room.Holding.Task.Within();

        using RawPeer second = server.CreateRawPeer();
        await SendResumeAsync(second, "user1", token);
        await server.Log.WaitForAsync(e => e.EventId.Id == 25);

        room.Release.SetResult();
        Assert.Contains(new Closing("kicked"), await second.ReceiveUntilClosedAsync());
        await room.LeaveOf("user1").Within();
        Assert.Equal(0, room.ResumedCount);
    }

    [Fact]
    public async Task ARoomThatClosesAUserWhoseDropWaitsForItsTurnIsNotToldOfTheDropAfterItsClose()
    {
        // The connection is lost while the room's turn is taken (another user's message is being handled); in that
        // turn the room closes the dropped user's connection. The drop hook, which waited for the turn, must not run
        // after the room's own close: the room hears only the leave.
        var room = new KickingRoom();
        var clock = new TestClock();
        await using TestServer server = await StartServerAsync(room, clock);
        RawPeer first = server.CreateRawPeer();
        await LogInResumablyAsync(first, "user1");
        await server.SettledConnectionAsync("user1");
        using RawPeer other = server.CreateRawPeer();
        await LogInResumablyAsync(other, "user2");
        await other.SendAsync(new Numbered(0));
        await room.Holding.Task.Within();

        first.Socket.LingerState = new System.Net.Sockets.LingerOption(true, 0);
        first.Dispose();
        await server.Log.WaitForAsync(e => e.EventId.Id == 24);

        room.Release.SetResult();
        await room.LeaveOf("user1").Within();
        Assert.Equal(0, room.DropCount);
    }

    /// <summary>A server session over nothing, for tests played directly against <see cref="ResumableSessions"/>.</summary>
    private static ServerSession Carrier(long id, TestClock clock, ResumableSessions sessions)
    {
        var transport = new Wevis.Transport.MessageConnection(new MemoryStream(), null, WevisRegistry.Messages, new Wevis.Transport.ConnectionLimits(1024 * 1024, 1024 * 1024), new object(), clock);
        var login = new ServerLogin(
            (_, _, _, _, _) => ValueTask.FromResult(LoginResult.Reject("no")),
            WevisRegistry.Messages.Fingerprint,
            new LoginRules(TimeSpan.FromSeconds(5), 1, 0, TimeSpan.FromMinutes(1)),
            clock,
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance,
            CancellationToken.None);
        return new ServerSession(id, transport, login, null!, WevisRegistry.Messages.Fingerprint, new Wevis.Transport.FlushBatch(new object()), clock, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, sessions);
    }

    [Fact]
    public async Task ASessionTheServerClosedCannotBeResumedWhileItsConnectionStillLingers()
    {
        var room = new ResumeRoom();
        var clock = new TestClock();
        await using TestServer server = await StartServerAsync(room, clock);
        using RawPeer first = server.CreateRawPeer();
        first.HangsUpWhenTheServerDoes = false;
        string token = await LogInResumablyAsync(first, "user1");
        Connection connection = await server.SettledConnectionAsync("user1");

        // The server's code ends the user's stay; the peer neither reads the farewell nor hangs up.
        connection.Close("kicked");

        using RawPeer second = server.CreateRawPeer();
        IMessage? answer = await ResumeAsync(second, "user1", token);

        Assert.Equal("resume refused: the session was ended by the server: kicked", Assert.IsType<LoginRejected>(answer).Reason);
        Assert.Equal(0, room.ResumedCount);
        Assert.False(connection.IsOpen);
    }

    [Fact]
    public async Task ASessionWhoseRoomClosedDisconnectingItsUsersCannotBeResumed()
    {
        var clock = new TestClock();
        await using TestServer server = await StartServerAsync(new ResumeRoom(), clock);
        server.Server.Rooms.Define("match", () => new TimeRoom());
        Room match = await server.Server.Rooms.CreateAsync("match", "m1");
        using RawPeer first = server.CreateRawPeer();
        first.HangsUpWhenTheServerDoes = false;
        string token = await LogInResumablyAsync(first, "user1");
        Connection connection = await server.SettledConnectionAsync("user1");
        Assert.True((await server.Server.Rooms.MoveAsync(connection, match).Within()).Accepted);

        await server.Server.Rooms.CloseAsync(match, "the match is over", disconnect: true).Within();

        using RawPeer second = server.CreateRawPeer();
        IMessage? answer = await ResumeAsync(second, "user1", token);
        Assert.Equal(
            "resume refused: the session was ended by the server: the room m1 was closed: the match is over",
            Assert.IsType<LoginRejected>(answer).Reason);
    }

    [Fact]
    public async Task ASessionTheServerClosedWhileItWasDroppedIsRefusedAtOnce()
    {
        var room = new ResumeRoom();
        var clock = new TestClock();
        await using TestServer server = await StartServerAsync(room, clock);
        string token = await LogInThenDropAsync(server, "user1");

        await room.FirstDrop.Task.Within();
        Connection connection = room.Connections.Single();
        connection.Close("kicked");

        // Refused from the moment the server's code closed it, not only once the user has left.
        Assert.False(connection.IsOpen);
        using RawPeer second = server.CreateRawPeer();
        IMessage? answer = await ResumeAsync(second, "user1", token);

        Assert.Equal("resume refused: the session was ended by the server: kicked", Assert.IsType<LoginRejected>(answer).Reason);
        await room.LeaveOf("user1").Within();
        Assert.Equal(0, room.ResumedCount);
    }

    [Fact]
    public async Task AResumeRefusedForABrokenReplayLogCutsThePreviousConnection()
    {
        var room = new ResumeRoom();
        var clock = new TestClock();
        await using TestServer server = await StartServerAsync(room, clock, o =>
        {
            o.MaxFrameSize = 1024;
            o.MaxUnacknowledgedBytes = 2048;
        });
        using RawPeer first = server.CreateRawPeer();
        first.HangsUpWhenTheServerDoes = false;
        string token = await LogInResumablyAsync(first, "user1");

        // Four replies of about 800 bytes that the peer never acknowledges: the session's replay log breaks while its
        // connection still looks alive (the peer's client has gone, and comes back on another connection).
        for (int i = 0; i < 4; i++)
        {
            await first.SendAsync(new Example.PleaseMayIHaveSomeFloats(200, 0));
        }

        int floats = 0;
        while (floats < 4)
        {
            if (await first.ReceiveAsync() is Example.SomeFloats)
            {
                floats++;
            }
        }

        using RawPeer second = server.CreateRawPeer();
        IMessage? answer = await ResumeAsync(second, "user1", token, received: 1);

        Assert.Equal(
            "resume refused: the session could not be kept: more than 2048 bytes were waiting for the peer's acknowledgement",
            Assert.IsType<LoginRejected>(answer).Reason);

        // The previous connection, carrying a session that is over, is cut too, and the user leaves once.
        await first.ReceiveUntilClosedAsync();
        await room.LeaveOf("user1").Within();
        Assert.Equal(1, room.Leaves);
        Assert.Equal(0, room.ResumedCount);
    }

    [Fact]
    public async Task AResumeWhoseConnectionClosesWhileThePreviousOneFinishesStopsAndTheSessionWaitsForItsClient()
    {
        var clock = new TestClock();
        await using TestServer server = await StartServerAsync(new ResumeRoom(), clock);
        var receiver = new HeldReceiver();
        server.Server.SessionHost = _ => receiver;
        using RawPeer first = server.CreateRawPeer();
        string token = await LogInResumablyAsync(first, "user1");

        // The first connection's message is being handled (held), so that connection cannot finish yet.
        await first.SendAsync(new Numbered(0));
        await receiver.Holding.Task.Within();

        // The client comes back on a second connection, a second after it was accepted: its login clock will run out
        // while it waits for the first connection, which it cuts, to finish.
        using RawPeer second = server.CreateRawPeer();
        var welcome = (Welcome)(await second.ReceiveAsync())!;
        clock.Advance(TimeSpan.FromSeconds(1));
        await second.SendAsync(new Wevis.Protocol.Resume(token, 0));
        await second.SendAsync(new Login("user1", Credentials.Encrypt("pw", welcome.Salt), TestServer.Version, WevisRegistry.Messages.Fingerprint));
        await first.ReceiveUntilClosedAsync();

        // Five 5 s timers: the login clocks of both connections and of both validations, and the wait for the first.
        await clock.WaitForTimersAsync(TimeSpan.FromSeconds(5), count: 5);
        clock.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(new Closing("did not log in within 5 s"), await second.ReceiveAsync());
        Assert.Null(await second.ReceiveAsync());

        // The first connection finishes now: the second, closed, must not take the session on.
        receiver.Release.SetResult();
        using RawPeer third = server.CreateRawPeer();
        IMessage? answer = await ResumeAsync(third, "user1", token);

        Assert.Equal<IMessage?>(new LoginAccepted(), answer);
        await receiver.FirstResume.Task.Within();
        Assert.Equal(1, Volatile.Read(ref receiver.Drops));
        Assert.Equal(1, Volatile.Read(ref receiver.Resumes));
        Assert.Equal(0, Volatile.Read(ref receiver.Ends));
    }

    [Fact]
    public async Task AResumeWaitingForAConnectionThatFailsOnAnUnexpectedErrorGoesOnAtOnce()
    {
        var clock = new TestClock();
        await using TestServer server = await StartServerAsync(new ResumeRoom(), clock);
        var receiver = new HeldReceiver { Failure = new NotSupportedException("a bug above the session") };
        server.Server.SessionHost = _ => receiver;
        using RawPeer first = server.CreateRawPeer();
        string token = await LogInResumablyAsync(first, "user1");
        await first.SendAsync(new Numbered(0));
        await receiver.Holding.Task.Within();

        // The client comes back while the first connection's message is being handled; the resume cuts that
        // connection and waits for it to finish, which it does by failing.
        using RawPeer second = server.CreateRawPeer();
        Task<IMessage?> answer = ResumeAsync(second, "user1", token);
        await first.ReceiveUntilClosedAsync();
        receiver.Release.SetResult();

        // At once, on a clock that does not move: not at the resume's login timeout.
        Assert.Equal<IMessage?>(new LoginAccepted(), await answer);
        await receiver.FirstResume.Task.Within();
        Assert.Equal(0, Volatile.Read(ref receiver.Ends));
    }

    [Fact]
    public async Task AnAckThatBreaksTheProtocolIsRefusedNamingTheMessageAndItsArgument()
    {
        var clock = new TestClock();
        await using TestServer server = await StartServerAsync(new ResumeRoom(), clock);
        server.Server.SessionHost = _ => new HeldReceiver();

        // A resumable session to which the server has sent nothing sequenced yet: the peer acknowledges 12.
        using (RawPeer resumable = server.CreateRawPeer())
        {
            await LogInResumablyAsync(resumable, "user1");
            await resumable.SendAsync(new Ack(12));
            Assert.Equal(
                new Closing("sent _Ack(received: 12) acknowledging more messages than the server sent (0)"),
                (await resumable.ReceiveUntilClosedAsync()).OfType<Closing>().Single());
        }

        // An ordinary session, which has nothing to acknowledge.
        using RawPeer ordinary = server.CreateRawPeer();
        var welcome = (Welcome)(await ordinary.ReceiveAsync())!;
        await ordinary.SendAsync(new Login("user2", Credentials.Encrypt("pw", welcome.Salt), TestServer.Version, WevisRegistry.Messages.Fingerprint));
        Assert.IsType<LoginAccepted>(await ordinary.ReceiveAsync());
        await ordinary.SendAsync(new Ack(3));
        Assert.Equal(
            new Closing("sent _Ack(received: 3) on a session that is not resumable"),
            (await ordinary.ReceiveUntilClosedAsync()).OfType<Closing>().Single());
    }

    [Theory]
    [InlineData(true, "the server sent _Ack(received: 5) acknowledging more messages than the client sent (0)")]
    [InlineData(false, "the server sent _Ack(received: 5) on a session that is not resumable")]
    public async Task AnAckFromTheServerThatBreaksTheProtocolIsNamedWithItsArgument(bool resumable, string reason)
    {
        // A server by hand: it accepts the login (resumable or not), then acknowledges five messages never sent.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        Task<Closing> told = Task.Run(async () =>
        {
            using RawPeer server = RawPeer.Wrap(await listener.AcceptSocketAsync().Within());
            await server.SendAsync(new Welcome(WireProtocol.Version, "salt", WevisRegistry.Messages.Fingerprint));
            while (await server.ReceiveAsync() is not Login)
            {
            }

            if (resumable)
            {
                await server.SendAsync(new Resumed("TokenTokenTokenTokenAA", 0));
            }

            await server.SendAsync(new LoginAccepted());
            await server.SendAsync(new Ack(5));
            return (await server.ReceiveUntilClosedAsync()).OfType<Closing>().Single();
        });
        var clock = new TestClock();
        var client = new Client("user1", "pw", TestServer.Version, "127.0.0.1", port, new ClientOptions { TimeProvider = clock, ResumeSessions = resumable });
        try
        {
            // The _Ack may arrive with the acceptance, so the connect may fail on it or succeed just before: either way
            // the server is told why.
            await Record.ExceptionAsync(() => client.ConnectAsync().Within());
            Assert.Equal(new Closing(reason), await told.Within());
        }
        finally
        {
            await clock.RunUntilAsync(client.DisposeAsync().AsTask());
        }
    }

    [Fact]
    public async Task AReceiverThatThrowsAsADroppedSessionEndsIsLoggedAndTheServerGoesOn()
    {
        // The grace period ends the session on the thread pool, where nothing awaits the user's leave: a receiver
        // that throws there was an unobserved async void exception, which ends the process (this test's host too).
        var clock = new TestClock();
        await using TestServer server = await StartServerAsync(new ResumeRoom(), clock);
        var receiver = new HeldReceiver { EndFailure = new NotSupportedException("a bug in the leave") };
        server.Server.SessionHost = _ => receiver;
        using (RawPeer first = server.CreateRawPeer())
        {
            await LogInResumablyAsync(first, "user1");
            first.Socket.LingerState = new System.Net.Sockets.LingerOption(true, 0);
        }

        await receiver.FirstDrop.Task.Within();
        await clock.WaitForTimersAsync(TimeSpan.FromSeconds(30), what: "the grace period");
        clock.Advance(TimeSpan.FromSeconds(30));

        LogEntry failed = await server.Log.WaitForAsync(e => e.EventId.Id == 44);
        Assert.IsType<NotSupportedException>(failed.Exception);
        Assert.Equal(1, Volatile.Read(ref receiver.Ends));

        // The server is still serving.
        using RawPeer second = server.CreateRawPeer();
        await LogInResumablyAsync(second, "user2");
    }

    [Fact]
    public async Task AResumeWaitingForAnotherToFinishStopsWaitingWhenItsLoginClockRunsOutOnTheServersClock()
    {
        // A long login timeout: a wait on the system clock would outlast the test's bound by far.
        var clock = new TestClock();
        await using TestServer server = await StartServerAsync(new ResumeRoom(), clock, o => o.LoginTimeout = TimeSpan.FromMinutes(10));
        using RawPeer first = server.CreateRawPeer();
        string token = await LogInResumablyAsync(first, "user1");
        ResumableSession resumable = TestServer.SessionOf(await server.SettledConnectionAsync("user1")).Resumable!;

        // Another resume of the session is under way (the test holds its gate for it), so this one waits.
        await resumable.ResumeGate.WaitAsync().Within();
        using RawPeer second = server.CreateRawPeer();
        await SendResumeAsync(second, "user1", token);
        await server.Log.WaitForCountAsync(e => e.EventId.Id == 20, 2);

        // Its login clock runs out on the server's clock: it is closed, and stops waiting at once.
        clock.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(new Closing("did not log in within 600 s"), (await second.ReceiveUntilClosedAsync()).OfType<Closing>().Single());
        await server.Log.WaitForAsync(e => e.EventId.Id == 11);
    }

    [Fact]
    public async Task AResumeRefusedBeforeItTookTheSessionLeavesTheUsersPlaceWithTheConnectionThatKeepsIt()
    {
        // One connection per user (the default). The resume arrives while the session's connection still looks alive,
        // so it may replace it; but it is refused before it takes the session (it waits behind another resume, and
        // its login clock runs out). The connection that keeps the session must keep its place, or the user could
        // log in once more than the limit allows.
        var clock = new TestClock();
        await using TestServer server = await StartServerAsync(new ResumeRoom(), clock);
        using RawPeer first = server.CreateRawPeer();
        string token = await LogInResumablyAsync(first, "user1");
        ResumableSession resumable = TestServer.SessionOf(await server.SettledConnectionAsync("user1")).Resumable!;
        await resumable.ResumeGate.WaitAsync().Within();
        using RawPeer second = server.CreateRawPeer();
        await SendResumeAsync(second, "user1", token);
        await server.Log.WaitForCountAsync(e => e.EventId.Id == 20, 2);
        clock.Advance(TimeSpan.FromSeconds(5));
        await second.ReceiveUntilClosedAsync();
        await server.Log.WaitForAsync(e => e.EventId.Id == 11);

        Assert.Equal(1, server.Server.ConnectionsOf("user1"));
        using RawPeer third = server.CreateRawPeer();
        var welcome = (Welcome)(await third.ReceiveAsync())!;
        await third.SendAsync(new Login("user1", Credentials.Encrypt("pw", welcome.Salt), TestServer.Version, WevisRegistry.Messages.Fingerprint));
        Assert.Equal("User user1 already has the most connections allowed (1).", Assert.IsType<LoginRejected>(await third.ReceiveAsync()).Reason);
    }

    [Fact]
    public async Task AResumeWaitingForAnotherToFinishDoesNotHoldUpTheServersStop()
    {
        var clock = new TestClock();
        TestServer server = await StartServerAsync(new ResumeRoom(), clock, o => o.LoginTimeout = TimeSpan.FromMinutes(10));
        using RawPeer first = server.CreateRawPeer();
        string token = await LogInResumablyAsync(first, "user1");
        ResumableSession resumable = TestServer.SessionOf(await server.SettledConnectionAsync("user1")).Resumable!;
        await resumable.ResumeGate.WaitAsync().Within();
        using RawPeer second = server.CreateRawPeer();
        await SendResumeAsync(second, "user1", token);
        await server.Log.WaitForCountAsync(e => e.EventId.Id == 20, 2);

        // The teardown moves the clock by a minute at most, for the first connection's linger: far short of the
        // wait's ten, so it is the stop that ends it.
        await server.DisposeAsync();
    }

    /// <summary>Logs in on <paramref name="peer"/> asking for a resumable session; returns its token once the login is accepted.</summary>
    /// <summary>Logs <paramref name="user"/> in resumably, then drops the connection hard (a reset): returns the session's token.</summary>
    private static async Task<string> LogInThenDropAsync(TestServer server, string user)
    {
        using RawPeer first = server.CreateRawPeer();
        string token = await LogInResumablyAsync(first, user);
        await server.SettledConnectionAsync(user);
        first.Socket.LingerState = new System.Net.Sockets.LingerOption(true, 0);
        return token;
    }

    internal static async Task<string> LogInResumablyAsync(RawPeer peer, string user)
    {
        await SendResumeAsync(peer, user, string.Empty);
        var resumed = Assert.IsType<Resumed>(await peer.ReceiveAsync());
        Assert.IsType<LoginAccepted>(await peer.ReceiveAsync());
        return resumed.Token;
    }

    /// <summary>
    /// What receives a session's messages in place of the rooms: it holds the first run of messages until released
    /// (then throws <see cref="Failure"/>, if set), and counts drops, resumes and ends.
    /// </summary>
    private sealed class HeldReceiver : ISessionReceiver
    {
        public int Drops;
        public int Resumes;
        public int Ends;

        public TaskCompletionSource Holding { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource FirstResume { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource FirstDrop { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Exception? Failure { get; init; }

        /// <summary>Thrown by <see cref="EndAsync"/>, if set: a receiver with a bug in its leave.</summary>
        public Exception? EndFailure { get; init; }

        public ValueTask EnterAsync() => ValueTask.CompletedTask;

        public async ValueTask ReceiveAsync(List<IMessage> messages, int start, int end)
        {
            if (Holding.TrySetResult())
            {
                await Release.Task;
                if (Failure is { } failure)
                {
                    throw failure;
                }
            }
        }

        public async ValueTask EndAsync()
        {
            Interlocked.Increment(ref Ends);
            await Task.Yield();
            if (EndFailure is { } failure)
            {
                throw failure;
            }
        }

        public ValueTask DroppedAsync()
        {
            Interlocked.Increment(ref Drops);
            FirstDrop.TrySetResult();
            return ValueTask.CompletedTask;
        }

        public ValueTask ResumedAsync(ServerSession session, bool wasDropped)
        {
            Interlocked.Increment(ref Resumes);
            FirstResume.TrySetResult();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// A room whose handler holds its turn for the first message until released, then closes user1's connection in
    /// that turn; it counts drops, resumes and leaves.
    /// </summary>
    private sealed class KickingRoom : TimeRoom
    {
        private readonly TaskCompletionSource _left1 = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _resumed;
        private int _dropped;

        public int ResumedCount => Volatile.Read(ref _resumed);

        public TaskCompletionSource FirstDrop { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Holding { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task LeaveOf(string user) => user == "user1" ? _left1.Task : throw new ArgumentException(user);

        protected override async ValueTask HandleAsync(Connection connection, IMessage message)
        {
            if (message is Numbered && Holding.TrySetResult())
            {
                await Release.Task;
                Connections.Single(c => c.User.Name == "user1").Close("kicked");
            }
        }

        public int DropCount => Volatile.Read(ref _dropped);

        protected override void OnUserDropped(Connection connection)
        {
            Interlocked.Increment(ref _dropped);
            FirstDrop.TrySetResult();
        }

        protected override void OnUserResumed(Connection connection) => Interlocked.Increment(ref _resumed);

        protected override void OnUserLeave(Connection connection)
        {
            base.OnUserLeave(connection);
            if (connection.User.Name == "user1")
            {
                _left1.TrySetResult();
            }
        }
    }

    /// <summary>Asks on <paramref name="peer"/> to resume <paramref name="token"/>'s session; returns the answer after <c>_Resumed</c>, or the refusal.</summary>
    internal static async Task<IMessage?> ResumeAsync(RawPeer peer, string user, string token, long received = 0)
    {
        await SendResumeAsync(peer, user, token, received);
        IMessage? answer = await peer.ReceiveAsync();
        return answer is Resumed ? await peer.ReceiveAsync() : answer;
    }

    /// <summary>
    /// Answers <paramref name="peer"/>'s welcome by asking to resume <paramref name="token"/>'s session (empty: a new
    /// resumable one), having handled <paramref name="received"/> messages, and logging in as <paramref name="user"/>;
    /// does not wait for the answer.
    /// </summary>
    internal static async Task SendResumeAsync(RawPeer peer, string user, string token, long received = 0)
    {
        var welcome = (Welcome)(await peer.ReceiveAsync())!;
        await peer.SendAsync(new Wevis.Protocol.Resume(token, received));
        await peer.SendAsync(new Login(user, Credentials.Encrypt("pw", welcome.Salt), TestServer.Version, WevisRegistry.Messages.Fingerprint));
    }
}
