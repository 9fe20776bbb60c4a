using Example;
using Microsoft.Extensions.Logging;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Messages;

namespace Wevis.Runtime.Tests.Networking;

/// <summary>Stopping, failing handlers, broadcasting, and the ways of running a server.</summary>
public class LifecycleTests
{
    [Fact]
    public async Task StoppingEndsEveryPendingReceiveAndRunsEachLeaveHookOnce()
    {
        TestServer server = await TestServer.StartAsync(o => o.MaxConnectionsPerUser = 5);
        Client[] clients = await Task.WhenAll(Enumerable.Range(0, 5).Select(i => server.ConnectAsync($"user{i}", "pw")));
        Task<IMessage>[] pending = clients.Select(c => c.ReceiveAsync().AsTask()).ToArray();

        await server.Server.StopAsync().Within();

        foreach (Task<IMessage> receive in pending)
        {
            ConnectionClosedException ex = await Assert.ThrowsAsync<ConnectionClosedException>(() => receive.WaitAsync(TimeSpan.FromSeconds(10))).Within();
            Assert.Contains("the server is stopping", ex.Reason, StringComparison.Ordinal);
        }

        for (int i = 0; i < clients.Length; i++)
        {
            Assert.Equal(1, server.Room.LeftCount($"user{i}"));
            Assert.False(clients[i].IsConnected);
            Assert.Throws<ConnectionClosedException>(() => clients[i].Send(new WhoAmI()));
            await clients[i].DisposeAsync().Within();
        }

        Assert.Equal(0, server.Server.ConnectionCount);
        await server.Server.Completion.Within();
    }

    [Fact]
    public async Task MessagesQueuedBeforeStoppingStillGoOut()
    {
        TestServer server = await TestServer.StartAsync();
        await using Client client = await server.ConnectAsync();
        client.Send(new PleaseMayIHaveSomeFloats(50_000, 50_000));

        // The 600 KB reply has been queued (and is perhaps still going out) as the server stops: it arrives whole
        // before the close.
        await server.Room.FloatsQueued.Task.Within();
        await server.Server.StopAsync().Within();
        SomeFloats floats = await client.ReceiveAsync<SomeFloats>().Within();

        Assert.Equal(50_000, floats.Doubles.Length);
        await Assert.ThrowsAsync<ConnectionClosedException>(async () => await client.ReceiveAsync()).Within();
    }

    [Fact]
    public async Task AHandlerThatThrowsIsLoggedAndTheConnectionLivesOn()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using Client client = await server.ConnectAsync();

        client.Send(new Explode("kaboom"));
        client.Send(new WhoAmI());

        Assert.Equal("michael", (await client.ReceiveAsync<YouAre>().Within()).Name);
        LogEntry entry = await server.Log.WaitForAsync(e => e.Level == LogLevel.Error && e.Exception is InvalidOperationException);
        Assert.Equal("kaboom", entry.Exception!.Message);
        Assert.Contains("michael", entry.Message, StringComparison.Ordinal);
        Assert.Contains("Explode { Reason = \"kaboom\" }", entry.Message, StringComparison.Ordinal);
        Assert.True(client.IsConnected);
    }

    [Fact]
    public async Task TheRoomCanBroadcastToEveryone()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using Client a = await server.ConnectAsync("user1", "pw");
        await using Client b = await server.ConnectAsync("user2", "pw");
        await using Client c = await server.ConnectAsync("user3", "pw");

        a.Send(new Move(3, 4));

        foreach (Client client in new[] { a, b, c })
        {
            Assert.Equal(new Move(3, 4), await client.ReceiveAsync<Move>().Within());
        }
    }

    [Fact]
    public async Task AnAsyncHandlerStillHandlesOneMessageAtATimeInOrder()
    {
        var room = new SlowRoom();
        await using TestServer server = await TestServer.StartAsync(room: room);
        await using Client a = await server.ConnectAsync("user1", "pw");
        await using Client b = await server.ConnectAsync("user2", "pw");

        for (int i = 0; i < 20; i++)
        {
            a.Send(new Numbered(i));
            b.Send(new Numbered(i));
        }

        for (int i = 0; i < 20; i++)
        {
            Assert.Equal(i, (await a.ReceiveAsync<NumberedReply>().Within()).Sequence);
            Assert.Equal(i, (await b.ReceiveAsync<NumberedReply>().Within()).Sequence);
        }

        Assert.Equal(0, room.Overlaps);
        Assert.Equal(0, room.OutOfOrder);
    }

    [Fact]
    public async Task RunAsyncRunsUntilCancelled()
    {
        var room = new TimeRoom();
        var server = new Server(TestServer.Validate, room, new ServerOptions { Host = "127.0.0.1", Port = 0 });
        using var cancel = new CancellationTokenSource();
        Task running = server.RunAsync(cancel.Token);
        await ExampleExchangeTests.WaitUntilAsync(() => server.EndPoint is not null);
        await using var client = new Client("michael", "mypassword", TestServer.Version, "127.0.0.1", server.Port);
        await client.ConnectAsync().Within();

        cancel.Cancel();
        await running.Within();

        Assert.True(server.Completion.IsCompletedSuccessfully);
        await Assert.ThrowsAsync<ConnectionClosedException>(async () =>
        {
            while (true)
            {
                await client.ReceiveAsync();
            }
        }).Within();
        Assert.Equal(1, room.LeftCount("michael"));
    }

    [Fact]
    public async Task LaunchBlocksUntilStoppedAndTheRoomCanRunCodeInItsTurn()
    {
        var room = new TimeRoom();
        var server = new Server(TestServer.Validate, room, new ServerOptions { Host = "127.0.0.1", Port = 0 });
        Task launched = Task.Run(server.Launch);
        await ExampleExchangeTests.WaitUntilAsync(() => server.IsRunning && server.EndPoint is not null);
        await using var client = new Client("michael", "mypassword", TestServer.Version, "127.0.0.1", server.Port);
        await client.ConnectAsync().Within();
        await client.ReceiveAsync<ServerReady>().Within();

        await room.InvokeAsync(() => room.Broadcast(new YouAre("everyone"))).Within();
        Assert.Equal("everyone", (await client.ReceiveAsync<YouAre>().Within()).Name);
        Assert.False(launched.IsCompleted);

        await server.StopAsync().Within();
        await launched.Within();
    }

    [Fact]
    public async Task AServerThatCannotListenSaysWhy()
    {
        await using TestServer first = await TestServer.StartAsync();
        var second = new Server(TestServer.Validate, new TimeRoom(), new ServerOptions { Host = "127.0.0.1", Port = first.Port });

        await Assert.ThrowsAsync<System.Net.Sockets.SocketException>(() => second.StartAsync()).Within();
        await AssertStoppedWithoutRunningAsync(second);
    }

    [Fact]
    public async Task OptionsAreCheckedWhenTheServerStarts()
    {
        var server = new Server(TestServer.Validate, new TimeRoom(), new ServerOptions { Port = 0, MaxFrameSize = 1024, MaxQueuedBytesPerConnection = 10 });
        ArgumentOutOfRangeException ex = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => server.StartAsync()).Within();
        Assert.Contains("MaxQueuedBytesPerConnection", ex.Message, StringComparison.Ordinal);

        // A server that never ran is not running, and a program awaiting its completion is not left waiting.
        await AssertStoppedWithoutRunningAsync(server);
    }

    [Fact]
    public async Task AStartCancelledWhileLookingUpTheHostLeavesTheServerStopped()
    {
        var server = new Server(TestServer.Validate, new TimeRoom(), new ServerOptions { Host = "localhost", Port = 0 });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => server.StartAsync(new CancellationToken(canceled: true))).Within();
        await AssertStoppedWithoutRunningAsync(server);
    }

    [Fact]
    public async Task ASecondStartThrowsAndLeavesTheRunningServerAlone()
    {
        await using TestServer server = await TestServer.StartAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(() => server.Server.StartAsync()).Within();

        Assert.True(server.Server.IsRunning);
        Assert.False(server.Server.Completion.IsCompleted);
        await using Client client = await server.ConnectAsync();
    }

    private static async Task AssertStoppedWithoutRunningAsync(Server server)
    {
        Assert.False(server.IsRunning);
        Assert.True(server.Completion.IsCompletedSuccessfully);

        // Disposing it (as `await using` would) is harmless.
        await server.DisposeAsync().AsTask().Within();
    }

    [Fact]
    public async Task AClientThatStopsLeavesTheRoomOnce()
    {
        await using TestServer server = await TestServer.StartAsync();
        Client client = await server.ConnectAsync();
        client.Stop();

        Connection left = await server.Room.FirstLeave.Task.Within();
        Assert.Equal("michael", left.User.Name);
        Assert.Contains("the client was stopped", left.CloseReason, StringComparison.Ordinal);

        // Once the server has stopped, every clean-up has run: a second leave would be counted by now.
        await server.Server.StopAsync().Within();
        Assert.Equal(1, server.Room.LeftCount("michael"));
        Assert.Equal(1, server.Room.EnteredCount("michael"));
    }

    [Fact]
    public async Task StoppingInCodeContinuingFromReceiveAsyncDoesNotWaitForItself()
    {
        // A program that awaits ReceiveAsync and then disposes the client with `using` (not `await using`) does
        // this: the code after the await can run on the client's receive loop, which Stop must not wait for.
        await using TestServer server = await TestServer.StartAsync();
        Client client = await server.ConnectAsync();

        Task<YouAre> receivedAndStopped = ReceiveThenStopAsync(client);
        client.Send(new WhoAmI());

        Assert.Equal(new YouAre("michael"), await receivedAndStopped.Within());
        await server.Room.FirstLeave.Task.Within();
        Assert.False(client.IsConnected);

        static async Task<YouAre> ReceiveThenStopAsync(Client client)
        {
            YouAre answer = await client.ReceiveAsync<YouAre>().ConfigureAwait(false); // Nothing has arrived yet: this waits.
            client.Stop();
            return answer;
        }
    }

    [Fact]
    public async Task StoppingInCodeContinuingFromAReceiveTheServerClosedDoesNotWaitForItself()
    {
        // The close ends the waiting receive on the receive loop itself, outside any batch of messages: the code
        // after the failed await runs there, and a blocking Stop in it must not wait for that loop.
        await using TestServer server = await TestServer.StartAsync();
        Client client = await server.ConnectAsync();
        Task<string> closedAndStopped = ReceiveThenStopAsync(client);

        (await server.SettledConnectionAsync()).Close("closed by the room");

        Assert.Contains("closed by the room", await closedAndStopped.Within(), StringComparison.Ordinal);
        Assert.False(client.IsConnected);

        static async Task<string> ReceiveThenStopAsync(Client client)
        {
            try
            {
                await client.ReceiveAsync().ConfigureAwait(false);
                return "a message arrived";
            }
            catch (ConnectionClosedException ex)
            {
                client.Stop();
                return ex.Reason;
            }
        }
    }

    [Fact]
    public async Task DisposingWhileConnectingLeavesNoConnectionBehind()
    {
        // The connect is held before it opens TCP, then goes on regardless of cancellation (as a slow handshake may):
        // the dispose in between finds nothing to close, so the connect must close what it opens and fail.
        await using TestServer server = await TestServer.StartAsync();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var connecting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Client client = server.CreateClient(configure: o => o.Connector = async _ =>
        {
            connecting.SetResult();
            await gate.Task;
            var tcp = new System.Net.Sockets.TcpClient();
            await tcp.ConnectAsync("127.0.0.1", server.Port);
            return tcp.GetStream();
        });

        Task connect = client.ConnectAsync();
        await connecting.Task.Within();
        await client.DisposeAsync().Within();
        gate.SetResult();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => connect.Within());
        Assert.False(client.IsConnected);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => client.ConnectAsync()).Within();

        // Only one connection per user is allowed: this login gets through only if the disposed client's is gone.
        await using Client again = await server.ConnectAsync();
        Assert.Equal(1, server.Server.ConnectionCount);
    }

    /// <summary>A room whose handler awaits, and which checks that handlers never overlap.</summary>
    private sealed class SlowRoom : TimeRoom
    {
        private int _running;

        public int Overlaps { get; private set; }

        protected override async ValueTask HandleAsync(Connection connection, IMessage message)
        {
            if (Interlocked.Increment(ref _running) != 1)
            {
                Overlaps++;
            }

            await Task.Delay(1);
            base.Handle(connection, message);
            Interlocked.Decrement(ref _running);
        }
    }
}
