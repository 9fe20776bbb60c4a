using System.Net;
using System.Net.Sockets;
using Example;
using Microsoft.Extensions.Logging;
using Wevis.Protocol;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Networking;
using Xunit.Abstractions;

namespace Wevis.Runtime.Tests.Reliability;

/// <summary>
/// Slow, silent and half-open peers: dropped at the login timeout however they dribble; a cap on connections
/// still logging in; and a cap on bytes queued for a peer that does not read, after which it is dropped.
/// </summary>
public class SlowPeerTests(ITestOutputHelper output)
{
    private const string Busy = "the server is busy: too many connections are logging in; try again later";

    private static readonly ServerOptions s_defaults = new();

    /// <summary>How long a connection closed for breaking the protocol waits for its peer to close (docs/reliability.md).</summary>
    private static readonly TimeSpan MisbehaviourLinger = TimeSpan.FromMilliseconds(500);

    [Fact]
    public async Task APeerThatDripsItsLoginIsDroppedAtTheLoginTimeoutCountedFromTheAccept()
    {
        var clock = new TestClock();
        await using TestServer server = await TestServer.StartAsync(clock: clock);
        await using Client healthy = await server.ConnectAsync("user1", "pw");
        using RawPeer peer = server.CreateRawPeer();
        var welcome = Assert.IsType<Welcome>(await peer.ReceiveAsync().Within());
        byte[] login = RawPeer.Frame(new Login("michael", Credentials.Encrypt("mypassword", welcome.Salt), TestServer.Version, WevisRegistry.Messages.Fingerprint));

        // A byte every tenth of the timeout: each must not restart the clock, which started at the accept.
        TimeSpan step = s_defaults.LoginTimeout / 10;
        for (int i = 0; i < 9; i++)
        {
            await peer.Socket.SendAsync(login.AsMemory(i, 1)).Within();
            clock.Advance(step);
        }

        Assert.True(peer.Socket.Available == 0, "the server answered before the login timeout had passed");
        await peer.Socket.SendAsync(login.AsMemory(9, 1)).Within();
        clock.Advance(step);
        List<IMessage> received = await peer.ReceiveUntilClosedAsync().Within();

        Assert.Equal("did not log in within 5 s", Assert.IsType<Closing>(Assert.Single(received)).Reason);
        await server.Log.WaitForAsync(e => e.Level == LogLevel.Warning && e.EventId.Id == 12 && e.Message.Contains("did not log in within 5 s", StringComparison.Ordinal));
        Assert.Equal(0, server.Room.EnteredCount("michael"));
        await AssertServesAsync(healthy);
        output.WriteLine($"dropped after 10 of the {login.Length} bytes of a login, sent {step.TotalMilliseconds} ms apart");
    }

    [Fact]
    public async Task APeerThatConnectsAndSendsNothingIsDroppedAtTheLoginTimeout()
    {
        var clock = new TestClock();
        await using TestServer server = await TestServer.StartAsync(clock: clock);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, server.Port).Within();

        // Never reads, never sends: the server still gives up on it when the clock started at the accept runs out,
        // and, since the peer does not close its side either, resets it once the short linger for misbehaving
        // peers has passed.
        await clock.WaitForTimersAsync(s_defaults.LoginTimeout, what: "the login timeout");
        clock.Advance(s_defaults.LoginTimeout);
        await clock.WaitForTimersAsync(MisbehaviourLinger, what: "the linger of a connection closed for breaking the protocol");
        clock.Advance(MisbehaviourLinger - TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, server.Server.ConnectionCount);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        await server.Log.WaitForAsync(e => e.Level == LogLevel.Warning && e.Message.Contains("did not log in within 5 s", StringComparison.Ordinal));
        await ExampleExchangeTests.WaitUntilAsync(() => server.Server.ConnectionCount == 0 && server.Server.PendingLogins == 0);
    }

    [Fact]
    public async Task ALoggedInPeerThatDripsAFrameIsDroppedByTheKeepAlive()
    {
        var clock = new TestClock();
        await using TestServer server = await TestServer.StartAsync(clock: clock);
        using RawPeer peer = server.CreateRawPeer();
        Assert.IsType<LoginAccepted>(await peer.LoginAsync().Within());
        Assert.IsType<ServerReady>(await peer.ReceiveAsync().Within());
        await server.SettledConnectionAsync();

        // Bytes that never make a whole frame are not an answer: halfway through the quiet before the ping, and
        // again after the ping, part of a frame arrives; the peer is still pinged after a whole interval since its
        // login, and dropped a ping timeout later. (The short real pause lets the server read the bytes before the
        // clock moves, so that counting them as an answer could not go unseen.)
        byte[] frame = RawPeerFaults.Prefixed(1000, new byte[1000]);
        clock.Advance(s_defaults.PingInterval / 2);
        await peer.SendRawAsync(frame[..500]).Within();
        await Task.Delay(200);
        clock.Advance(s_defaults.PingInterval / 2);
        Assert.IsType<Ping>(await peer.ReceiveAsync().Within());
        await peer.SendRawAsync(frame[500..900]).Within();
        await Task.Delay(200);
        clock.Advance(s_defaults.PingTimeout);

        List<IMessage> received = await peer.ReceiveUntilClosedAsync().Within();
        Assert.Equal([new Closing("no answer to a ping within 5 s")], received);
        Connection left = await server.Room.FirstLeave.Task.Within();
        Assert.Equal("no answer to a ping within 5 s", left.CloseReason);
    }

    [Fact]
    public async Task ConnectionsStillLoggingInAreCappedAndTheCapRecovers()
    {
        const int cap = 10;
        var clock = new TestClock();
        await using TestServer server = await TestServer.StartAsync(o => o.MaxPendingLogins = cap, clock: clock);
        await using Client healthy = await server.ConnectAsync("user1", "pw");

        // Thirty idle sockets: the first ten get a welcome, the rest are told the server is busy and closed at once.
        RawPeer[] idle = [.. Enumerable.Range(0, 30).Select(_ => server.CreateRawPeer())];
        IMessage?[] first = await Task.WhenAll(idle.Select(p => p.ReceiveAsync())).Within();

        Assert.Equal(cap, first.Count(m => m is Welcome));
        Assert.Equal(30 - cap, first.Count(m => m is Closing { Reason: Busy }));
        Assert.Equal(30 - cap, server.Log.Entries.Count(e => e.Level == LogLevel.Warning && e.EventId.Id == 13));
        Assert.Equal(cap, server.Server.PendingLogins);

        // Logged-in users are not affected; a new user waits for the idle ones to time out (documented).
        await AssertServesAsync(healthy);
        await using (Client refused = server.CreateClient("user2", "pw"))
        {
            ConnectionFailedException ex = await Assert.ThrowsAsync<ConnectionFailedException>(() => refused.ConnectAsync().Within());
            Assert.Equal("The server closed the connection: " + Busy, ex.Message);
            output.WriteLine($"refused while the cap is full: {ex.Message}");
        }

        // The idle ones run out of time; they neither read their farewell nor close, so they are reset after the linger.
        clock.Advance(s_defaults.LoginTimeout);
        clock.Advance(MisbehaviourLinger);
        await ExampleExchangeTests.WaitUntilAsync(() => server.Server.PendingLogins == 0);
        await using Client later = await server.ConnectAsync("user2", "pw");
        await AssertServesAsync(later);
        foreach (RawPeer peer in idle)
        {
            peer.Dispose();
        }
    }

    [Fact]
    public async Task APeerThatDoesNotReadIsDroppedWhenItsOutgoingQueueIsFull()
    {
        const long cap = 1024 * 1024;
        var room = new QueueWatchingRoom();
        await using TestServer server = await TestServer.StartAsync(
            o =>
            {
                o.MaxFrameSize = 128 * 1024;
                o.MaxQueuedBytesPerConnection = cap;
            },
            room);
        await using Client healthy = await server.ConnectAsync("user1", "pw");
        using RawPeer peer = server.CreateRawPeer();
        Assert.IsType<LoginAccepted>(await peer.LoginAsync().Within());

        // Ask for 64 KB replies, 25 MB in all, and never read: the socket buffers fill, then the queue.
        byte[] request = RawPeer.Frame(new PleaseMayIHaveSomeFloats(0, 8_000));
        try
        {
            for (int i = 0; i < 400; i++)
            {
                await peer.SendRawAsync(request).Within();
            }
        }
        catch (SocketException)
        {
            // Dropped before all were sent.
        }

        LogEntry warning = await server.Log.WaitForAsync(e => e.Level == LogLevel.Warning && e.Message.Contains("bytes were queued for sending", StringComparison.Ordinal));
        Connection left = await server.Room.FirstLeave.Task.Within();

        Assert.Equal("michael", left.User.Name);
        Assert.Contains($"more than {cap} bytes were queued for sending: the peer is not reading", warning.Message, StringComparison.Ordinal);
        Assert.Contains("michael", warning.Message, StringComparison.Ordinal);
        Assert.InRange(room.LargestQueue, 1, cap + (128 * 1024) + 4);
        await AssertServesAsync(healthy);
        Assert.Equal(1, server.Room.LeftCount("michael"));
        output.WriteLine($"{warning.Message}; the largest queue seen was {room.LargestQueue:N0} bytes (cap {cap:N0})");
    }

    [Fact]
    public async Task AClientWhoseServerDoesNotReadFailsItsSendsOnceItsQueueIsFull()
    {
        // A "server" that logs the client in by hand, then never reads again.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        Socket? serverSide = null;
        Task serving = Task.Run(async () =>
        {
            serverSide = await listener.AcceptSocketAsync().Within();
            await serverSide.SendAsync(RawPeer.Frame(new Welcome(WireProtocol.Version, "salt", WevisRegistry.Messages.Fingerprint))).Within();
            await serverSide.ReceiveAsync(new byte[4096]).Within();
            await serverSide.SendAsync(RawPeer.Frame(new LoginAccepted())).Within();
        });
        await using var client = new Client("michael", "mypassword", TestServer.Version, "127.0.0.1", port, new ClientOptions
        {
            MaxFrameSize = 128 * 1024,
            MaxQueuedBytes = 1024 * 1024,
        });
        await client.ConnectAsync().Within();
        await serving.Within();

        ConnectionClosedException ex = await Assert.ThrowsAsync<ConnectionClosedException>(async () =>
        {
            for (int i = 0; i < 1_000; i++)
            {
                client.Send(new SomeFloats([], new double[8_000]));
                await Task.Yield();
            }
        });

        Assert.Contains("more than 1048576 bytes were queued for sending: the peer is not reading", ex.Reason, StringComparison.Ordinal);
        serverSide?.Dispose();
    }

    private static async Task AssertServesAsync(Client client)
    {
        client.Send(new WhoAmI());
        Assert.Equal(client.Username, (await client.ReceiveAsync<YouAre>().Within()).Name);
    }

    /// <summary>Records the most bytes ever waiting to go out to one connection, after each reply it queues.</summary>
    private sealed class QueueWatchingRoom : TimeRoom
    {
        private long _largestQueue;

        public long LargestQueue => Interlocked.Read(ref _largestQueue);

        protected override void Handle(Connection connection, IMessage message)
        {
            base.Handle(connection, message);
            long queued = ((LocalConnection)connection).Session.Transport.QueuedBytes;
            if (queued > _largestQueue)
            {
                Interlocked.Exchange(ref _largestQueue, queued);
            }
        }
    }
}
