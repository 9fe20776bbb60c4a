using System.Net;
using System.Net.Sockets;
using Example;
using Wevis.Protocol;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Messages;

namespace Wevis.Runtime.Tests.Networking;

/// <summary>
/// The server pings quiet connections and drops those that do not answer; healthy idle clients stay; a client
/// notices a server that falls silent. Every test runs on a fake clock (<see cref="TestClock"/>) with the default
/// intervals, so none of them sleeps and no margin depends on the machine's speed.
/// </summary>
public class KeepAliveTests
{
    private static readonly ServerOptions s_defaults = new();

    [Fact]
    public async Task AClientThatStopsAnsweringPingsIsPingedAfterTheIntervalAndDroppedAfterTheTimeout()
    {
        var clock = new TestClock();
        await using TestServer server = await TestServer.StartAsync(clock: clock);
        using RawPeer peer = server.CreateRawPeer();
        Assert.IsType<LoginAccepted>(await peer.LoginAsync().Within());
        Assert.IsType<ServerReady>(await peer.ReceiveAsync().Within());
        await server.SettledConnectionAsync();

        // Reads, but never answers. Quiet for the ping interval: pinged, after exactly that much quiet.
        clock.Advance(s_defaults.PingInterval - TimeSpan.FromSeconds(1));
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.IsType<Ping>(await peer.ReceiveAsync().Within());
        LogEntry pinged = await server.Log.WaitForAsync(e => e.EventId.Id == 40);
        Assert.EndsWith($"after {s_defaults.PingInterval.TotalMilliseconds} ms of quiet", pinged.Message, StringComparison.Ordinal);

        // No answer for the ping timeout: dropped, with the reason.
        clock.Advance(s_defaults.PingTimeout - TimeSpan.FromSeconds(1));
        Task<IMessage?> next = peer.ReceiveAsync();
        Assert.False(next.IsCompleted, "the server closed the connection before the ping timeout had passed");
        clock.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal("no answer to a ping within 5 s", Assert.IsType<Closing>(await next.Within()).Reason);
        Assert.Empty(await peer.ReceiveUntilClosedAsync().Within());
        Connection left = await server.Room.FirstLeave.Task.Within();
        Assert.Equal("no answer to a ping within 5 s", left.CloseReason);
    }

    [Fact]
    public async Task AHealthyIdleClientAnswersEveryPingByItselfAndStays()
    {
        var clock = new TestClock();
        await using TestServer server = await TestServer.StartAsync(clock: clock);
        await using Client client = await server.ConnectAsync();
        Connection connection = await server.SettledConnectionAsync();

        // Three rounds of an interval's quiet and a ping timeout more: the client's own pong answers each ping.
        for (int round = 1; round <= 3; round++)
        {
            long heard = TestServer.LastHeardFrom(connection);
            clock.Advance(s_defaults.PingInterval);
            await server.Log.WaitForAsync(e => e.EventId.Id == 40 && server.Log.Entries.Count(p => p.EventId.Id == 40) >= round);
            await ExampleExchangeTests.WaitUntilAsync(() => TestServer.LastHeardFrom(connection) > heard);
            clock.Advance(s_defaults.PingTimeout);
            await ExampleExchangeTests.WaitUntilAsync(() => !TestServer.AwaitsPong(connection));
        }

        Assert.Equal(3, server.Log.Entries.Count(e => e.EventId.Id == 40));
        Assert.True(client.IsConnected, client.CloseReason);
        client.Send(new WhoAmI());
        Assert.IsType<YouAre>(await client.ReceiveAsync().Within());
        Assert.Equal(0, server.Room.TotalLeft);
    }

    [Fact]
    public async Task TimeTheRoomSpendsOnAPeersMessageIsNotThePeersSilence()
    {
        var clock = new TestClock();
        var room = new HoldingRoom();
        await using TestServer server = await TestServer.StartAsync(room: room, clock: clock);
        using RawPeer peer = server.CreateRawPeer();
        Assert.IsType<LoginAccepted>(await peer.LoginAsync().Within());
        Assert.IsType<ServerReady>(await peer.ReceiveAsync().Within());
        Connection connection = await server.SettledConnectionAsync();

        // The peer (which never answers a ping) sends a message that holds the room while the clock runs past a
        // ping interval and timeout twice over: it is pinged, but not dropped while its message is being handled.
        await peer.SendAsync(new Explode("hold")).Within();
        await room.Holding.Task.Within();
        clock.Advance(s_defaults.PingInterval + s_defaults.PingTimeout);
        clock.Advance(s_defaults.PingInterval + s_defaults.PingTimeout);
        Assert.IsType<Ping>(await peer.ReceiveAsync().Within());
        room.Release();
        await ExampleExchangeTests.WaitUntilAsync(() => !TestServer.IsDispatching(connection));

        // Nor right after: the end of the handling counts as the peer's last activity, so it has a whole interval
        // until the next ping (not a drop for the ping it could not have answered), and a timeout after that.
        clock.Advance(TimeSpan.FromSeconds(1));
        clock.Advance(s_defaults.PingInterval);
        Assert.IsType<Ping>(await peer.ReceiveAsync().Within());
        clock.Advance(s_defaults.PingTimeout);
        Assert.Equal([new Closing("no answer to a ping within 5 s")], await peer.ReceiveUntilClosedAsync().Within());
    }

    [Fact]
    public async Task AClientNoticesAServerSilentForItsServerTimeoutAndAPendingReceiveEnds()
    {
        // A "server" that logs the client in by hand, then never sends anything again (a dead host, say).
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        Task serving = Task.Run(async () =>
        {
            using Socket socket = await listener.AcceptSocketAsync().Within();
            await socket.SendAsync(RawPeer.Frame(new Welcome(WireProtocol.Version, "salt", WevisRegistry.Messages.Fingerprint))).Within();
            byte[] buffer = new byte[4096];
            await socket.ReceiveAsync(buffer).Within();
            await socket.SendAsync(RawPeer.Frame(new LoginAccepted())).Within();
            try
            {
                while (await socket.ReceiveAsync(buffer).Within() > 0)
                {
                }
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
            {
                // The client gave up on this server: it cuts the connection (an abort resets it).
            }
        });
        var clock = new TestClock();
        var options = new ClientOptions { TimeProvider = clock };
        var client = new Client("michael", "mypassword", TestServer.Version, "127.0.0.1", port, options);
        try
        {
            await client.ConnectAsync().Within();
            await SilentServerAsync(client, clock, options);
            await serving.Within();
        }
        finally
        {
            await clock.RunUntilAsync(client.DisposeAsync().AsTask());
        }
    }

    private static async Task SilentServerAsync(Client client, TestClock clock, ClientOptions options)
    {
        Task<IMessage> receiving = client.ReceiveAsync().AsTask();

        // Silent for exactly the timeout: still connected (the watchdog, checking every quarter of it, runs as time moves).
        clock.Advance(options.ServerTimeout);
        Assert.True(client.IsConnected, client.CloseReason);
        Assert.False(receiving.IsCompleted);

        clock.Advance(options.ServerTimeout / 4);
        ConnectionClosedException ex = await Assert.ThrowsAsync<ConnectionClosedException>(() => receiving.Within());
        Assert.Equal("nothing arrived from the server for 30 s", ex.Reason);
    }

    [Fact]
    public async Task ALoginThatNeverFinishesFailsAtTheConnectTimeout()
    {
        // A listener that accepts and never welcomes.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var clock = new TestClock();
        var options = new ClientOptions { TimeProvider = clock };
        var client = new Client("michael", "mypassword", TestServer.Version, "127.0.0.1", port, options);
        Task connecting = client.ConnectAsync();
        try
        {
            await clock.WaitForTimersAsync(options.ConnectTimeout, what: "the connect timeout");
            clock.Advance(options.ConnectTimeout - TimeSpan.FromMilliseconds(1));
            Assert.False(connecting.IsCompleted, "connecting ended before the connect timeout");
            clock.Advance(TimeSpan.FromMilliseconds(1));

            ConnectionFailedException ex = await Assert.ThrowsAsync<ConnectionFailedException>(() => connecting.Within());
            Assert.Equal($"Could not connect and log in to 127.0.0.1:{port} within 10 s.", ex.Message);
        }
        finally
        {
            await clock.RunUntilAsync(client.DisposeAsync().AsTask());
        }
    }

    /// <summary>The test room, whose handler of <c>Explode("hold")</c> holds the room until <see cref="Release"/>.</summary>
    private sealed class HoldingRoom : TimeRoom
    {
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Holding { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => _released.TrySetResult();

        protected override async ValueTask HandleAsync(Connection connection, IMessage message)
        {
            if (message is Explode { Reason: "hold" })
            {
                Holding.TrySetResult();
                await _released.Task.WaitAsync(TimeSpan.FromSeconds(30));
                return;
            }

            Handle(connection, message);
        }
    }
}
