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

    private static readonly TimeSpan LoginTimeout = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task APeerThatDripsItsLoginIsDroppedAtTheLoginTimeout()
    {
        await using TestServer server = await TestServer.StartAsync(o => o.LoginTimeout = LoginTimeout);
        await using Client healthy = await server.ConnectAsync("user1", "pw");
        using RawPeer peer = server.CreateRawPeer();
        var welcome = Assert.IsType<Welcome>(await peer.ReceiveAsync());
        byte[] login = RawPeer.Frame(new Login("michael", Credentials.Encrypt("mypassword", welcome.Salt), TestServer.Version, WevisRegistry.Messages.Fingerprint));

        // One byte every 50 ms: the whole login would take seconds; each byte must not restart the clock.
        int sent = await peer.DripAsync(login, TimeSpan.FromMilliseconds(50));
        List<IMessage> received = await peer.ReceiveUntilClosedAsync();

        Assert.True(sent < login.Length, $"the peer dripped all {login.Length} bytes of its login without being dropped");
        Assert.Equal("did not log in within 0.3 s", Assert.IsType<Closing>(Assert.Single(received)).Reason);
        await server.Log.WaitForAsync(e => e.Level == LogLevel.Warning && e.Message.Contains("did not log in within 0.3 s", StringComparison.Ordinal));
        Assert.Equal(0, server.Room.EnteredCount("michael"));
        await AssertServesAsync(healthy);
        output.WriteLine($"dropped after {sent} of {login.Length} bytes, dripped 50 ms apart");
    }

    [Fact]
    public async Task APeerThatConnectsAndSendsNothingIsDroppedAtTheLoginTimeout()
    {
        await using TestServer server = await TestServer.StartAsync(o => o.LoginTimeout = LoginTimeout);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, server.Port);

        // Never reads, never sends: the server still gives up on it.
        await server.Log.WaitForAsync(e => e.Level == LogLevel.Warning && e.Message.Contains("did not log in within 0.3 s", StringComparison.Ordinal));
        await ExampleExchangeTests.WaitUntilAsync(() => server.Server.ConnectionCount == 0 && server.Server.PendingLogins == 0);
    }

    [Fact]
    public async Task ALoggedInPeerThatDripsAFrameIsDroppedByTheKeepAlive()
    {
        await using TestServer server = await TestServer.StartAsync(o =>
        {
            o.PingInterval = TimeSpan.FromMilliseconds(150);
            o.PingTimeout = TimeSpan.FromMilliseconds(200);
        });
        using RawPeer peer = server.CreateRawPeer();
        Assert.IsType<LoginAccepted>(await peer.LoginAsync());

        // Bytes that never make a whole frame are not an answer to a ping.
        byte[] frame = RawPeerFaults.Prefixed(1000, new byte[1000]);
        int sent = await peer.DripAsync(frame, TimeSpan.FromMilliseconds(20));

        Assert.True(sent < frame.Length, "the peer dripped a whole 1000-byte frame without being dropped");
        Connection left = await server.Room.FirstLeave.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("no answer to a ping within 0.2 s", left.CloseReason);
    }

    [Fact]
    public async Task ConnectionsStillLoggingInAreCappedAndTheCapRecovers()
    {
        const int cap = 10;
        await using TestServer server = await TestServer.StartAsync(o =>
        {
            o.MaxPendingLogins = cap;
            o.LoginTimeout = TimeSpan.FromMilliseconds(1500);
        });
        await using Client healthy = await server.ConnectAsync("user1", "pw");

        // Thirty idle sockets: the first ten get a welcome, the rest are told the server is busy and closed at once.
        RawPeer[] idle = [.. Enumerable.Range(0, 30).Select(_ => server.CreateRawPeer())];
        IMessage?[] first = await Task.WhenAll(idle.Select(p => p.ReceiveAsync(TimeSpan.FromSeconds(10))));

        Assert.Equal(cap, first.Count(m => m is Welcome));
        Assert.Equal(30 - cap, first.Count(m => m is Closing { Reason: Busy }));
        Assert.Equal(30 - cap, server.Log.Entries.Count(e => e.Level == LogLevel.Warning && e.EventId.Id == 13));
        Assert.Equal(cap, server.Server.PendingLogins);

        // Logged-in users are not affected; a new user waits for the idle ones to time out (documented).
        await AssertServesAsync(healthy);
        await using (Client refused = server.CreateClient("user2", "pw"))
        {
            ConnectionFailedException ex = await Assert.ThrowsAsync<ConnectionFailedException>(() => refused.ConnectAsync());
            Assert.Equal("The server closed the connection: " + Busy, ex.Message);
            output.WriteLine($"refused while the cap is full: {ex.Message}");
        }

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
        Assert.IsType<LoginAccepted>(await peer.LoginAsync());

        // Ask for 64 KB replies, 25 MB in all, and never read: the socket buffers fill, then the queue.
        byte[] request = RawPeer.Frame(new PleaseMayIHaveSomeFloats(0, 8_000));
        try
        {
            for (int i = 0; i < 400; i++)
            {
                await peer.SendRawAsync(request);
            }
        }
        catch (SocketException)
        {
            // Dropped before all were sent.
        }

        LogEntry warning = await server.Log.WaitForAsync(e => e.Level == LogLevel.Warning && e.Message.Contains("bytes were queued for sending", StringComparison.Ordinal));
        Connection left = await server.Room.FirstLeave.Task.WaitAsync(TimeSpan.FromSeconds(10));

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
            serverSide = await listener.AcceptSocketAsync();
            await serverSide.SendAsync(RawPeer.Frame(new Welcome(WireProtocol.Version, "salt", WevisRegistry.Messages.Fingerprint)));
            await serverSide.ReceiveAsync(new byte[4096]);
            await serverSide.SendAsync(RawPeer.Frame(new LoginAccepted()));
        });
        await using var client = new Client("michael", "mypassword", TestServer.Version, "127.0.0.1", port, new ClientOptions
        {
            MaxFrameSize = 128 * 1024,
            MaxQueuedBytes = 1024 * 1024,
        });
        await client.ConnectAsync();
        await serving;

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
        Assert.Equal(client.Username, (await client.ReceiveAsync<YouAre>().AsTask().WaitAsync(TimeSpan.FromSeconds(10))).Name);
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
