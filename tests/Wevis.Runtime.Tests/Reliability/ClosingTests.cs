using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Example;
using Microsoft.Extensions.Logging;
using Wevis.Protocol;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Messages;
using Wevis.Runtime.Tests.Networking;
using Wevis.Serialization;

namespace Wevis.Runtime.Tests.Reliability;

/// <summary>
/// Closing without losing data (docs/reliability.md): what arrived before a bad frame is still handled; a peer
/// that does not close its side after the server's farewell is reset after the linger (3 s, or 0.5 s after a
/// protocol violation); a stopping client waits at most 2 s for the server; stopping the server waits at most
/// <see cref="ServerOptions.StopTimeout"/> for queued output. The waits run on a fake clock.
/// </summary>
public class ClosingTests
{
    private static readonly TimeSpan Linger = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan MisbehaviourLinger = TimeSpan.FromMilliseconds(500);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task FramesThatArrivedBeforeABadFrameAreStillHandledInOrder(bool tls)
    {
        using var certificate = TestCertificate.CreateSelfSigned();
        await using TestServer server = await TestServer.StartAsync(o => o.Certificate = tls ? certificate : null);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, server.Port).Within();
        Stream stream = tcp.GetStream();
        if (tls)
        {
            var ssl = new SslStream(stream, false, (_, _, _, _) => true);
            await ssl.AuthenticateAsClientAsync("localhost").Within();
            stream = ssl;
        }

        var welcome = Assert.IsType<Welcome>(await ReadFrameAsync(stream).Within());
        await stream.WriteAsync(RawPeer.Frame(new Login("michael", Credentials.Encrypt("mypassword", welcome.Salt), TestServer.Version, WevisRegistry.Messages.Fingerprint))).Within();
        Assert.IsType<LoginAccepted>(await ReadFrameAsync(stream).Within());
        Assert.IsType<RoomChanged>(await ReadFrameAsync(stream).Within());
        Assert.IsType<ServerReady>(await ReadFrameAsync(stream).Within());

        // Five good frames and a bad one, in one write: they arrive in one read, and the good ones are handled first.
        byte[] frames = [.. Enumerable.Range(0, 5).SelectMany(i => RawPeer.Frame(new Numbered(i))), .. RawPeerFaults.Prefixed(0)];
        await stream.WriteAsync(frames).Within();
        var received = new List<IMessage>();
        while (await ReadFrameAsync(stream).Within() is { } message)
        {
            received.Add(message);
        }

        Assert.Equal(
            [.. Enumerable.Range(0, 5).Select(i => (IMessage)new NumberedReply(i)), new Closing("Received a frame of length 0; every frame must hold a message.")],
            received);
        Assert.Equal(5, server.Room.NumberedHandled);
        Assert.Equal(0, server.Room.OutOfOrder);
        stream.Dispose();
    }

    [Fact]
    public async Task APeerThatDoesNotCloseItsSideIsResetAfterTheLingerWhichIsShorterAfterAViolation()
    {
        var clock = new TestClock();
        var room = new RoomTests.ClosingRoom();
        await using TestServer server = await TestServer.StartAsync(room: room, clock: clock);
        using RawPeer closed = server.CreateRawPeer();
        using RawPeer violating = server.CreateRawPeer();
        Assert.IsType<LoginAccepted>(await closed.LoginAsync("user1", "pw").Within());
        Assert.IsType<LoginAccepted>(await violating.LoginAsync("user2", "pw").Within());

        // The room closes one (a graceful close); the other breaks the protocol. Each reads its farewell and the
        // end of the stream, and neither closes its side.
        await closed.SendAsync(new Explode("close me")).Within();
        await violating.SendRawAsync(RawPeerFaults.Prefixed(0)).Within();
        Assert.Equal(new Closing("closed by the room"), await ReadUntilEndAsync(closed));
        Assert.Equal(new Closing("Received a frame of length 0; every frame must hold a message."), await ReadUntilEndAsync(violating));
        await clock.WaitForTimersAsync(Linger, what: "the linger of a graceful close");
        await clock.WaitForTimersAsync(MisbehaviourLinger, what: "the linger of a close for breaking the protocol");

        clock.Advance(MisbehaviourLinger);
        Assert.True(violating.Socket.Poll(Bounded.DefaultTimeout, SelectMode.SelectError), "the peer that broke the protocol was not reset after 0.5 s");
        Assert.False(closed.Socket.Poll(TimeSpan.Zero, SelectMode.SelectError), "a peer closed gracefully was reset after 0.5 s");
        Assert.Equal(0, server.Room.LeftCount("user1"));

        clock.Advance(Linger - MisbehaviourLinger);
        Assert.True(closed.Socket.Poll(Bounded.DefaultTimeout, SelectMode.SelectError), "the peer closed gracefully was not reset after 3 s");
        await ExampleExchangeTests.WaitUntilAsync(() => server.Room.LeftCount("user1") == 1 && server.Server.ConnectionCount == 0);
    }

    [Fact]
    public async Task AStoppingClientWaitsForTheServerToCloseItsSideButAtMostTwoSeconds()
    {
        // A "server" that logs the client in by hand, reads its farewell, and never closes its side.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        Socket? serverSide = null;
        Task<IMessage?> farewell = Task.Run(async () =>
        {
            serverSide = await listener.AcceptSocketAsync();
            var stream = new NetworkStream(serverSide, ownsSocket: false);
            await stream.WriteAsync(RawPeer.Frame(new Welcome(WireProtocol.Version, "salt", WevisRegistry.Messages.Fingerprint)));
            Assert.IsType<Hello>(await ReadFrameAsync(stream));
            Assert.IsType<Login>(await ReadFrameAsync(stream));
            await stream.WriteAsync(RawPeer.Frame(new LoginAccepted()));
            return await ReadFrameAsync(stream);
        });
        var clock = new TestClock();
        var client = new Client("michael", "mypassword", TestServer.Version, "127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port, new ClientOptions { TimeProvider = clock });
        await client.ConnectAsync().Within();

        Task stopping = client.DisposeAsync().AsTask();
        try
        {
            await StopsAfterTwoSecondsAsync(clock, farewell, stopping);
            Assert.False(client.IsConnected);
        }
        finally
        {
            await clock.RunUntilAsync(stopping);
            serverSide?.Dispose();
        }
    }

    private static async Task StopsAfterTwoSecondsAsync(TestClock clock, Task<IMessage?> farewell, Task stopping)
    {
        Assert.Equal(new Closing("the client was stopped"), await farewell.Within());
        await clock.WaitForTimersAsync(TimeSpan.FromSeconds(2), what: "the client's wait for the server to close its side");
        clock.Advance(TimeSpan.FromSeconds(2) - TimeSpan.FromMilliseconds(1));
        await Task.WhenAny(stopping, Task.Delay(200));
        Assert.False(stopping.IsCompleted, "stopping did not wait for the server to close its side");

        clock.Advance(TimeSpan.FromMilliseconds(1));
        await stopping.Within();
    }

    [Fact]
    public async Task StoppingTheServerLetsQueuedOutputGoOutForAtMostTheStopTimeoutThenCutsTheConnection()
    {
        var clock = new TestClock();
        TimeSpan stopTimeout = TimeSpan.FromSeconds(6);
        await using TestServer server = await TestServer.StartAsync(o => o.StopTimeout = stopTimeout, clock: clock);
        using RawPeer peer = server.CreateRawPeer();
        Assert.IsType<LoginAccepted>(await peer.LoginAsync().Within());
        Connection connection = await server.SettledConnectionAsync();

        // Ten replies of 960 KB that the peer never reads: most of them stay queued.
        for (int i = 0; i < 10; i++)
        {
            await peer.SendAsync(new PleaseMayIHaveSomeFloats(0, 120_000)).Within();
        }

        await ExampleExchangeTests.WaitUntilAsync(() => TestServer.QueuedBytes(connection) > 4_000_000);
        Task stopping = server.Server.StopAsync();
        // The server has closed every connection once it waits for them (a second longer than the stop timeout).
        await clock.WaitForTimersAsync(stopTimeout + TimeSpan.FromSeconds(1), what: "the server's wait for its connections to close");
        clock.Advance(stopTimeout - TimeSpan.FromMilliseconds(1));
        await Task.WhenAny(stopping, Task.Delay(200));
        Assert.False(stopping.IsCompleted, $"stopping cut the connection before the stop timeout ({stopTimeout.TotalSeconds} s) had passed");

        clock.Advance(TimeSpan.FromMilliseconds(1));
        await stopping.Within();
        Assert.True(peer.Socket.Poll(Bounded.DefaultTimeout, SelectMode.SelectError), "the connection was not cut");
        Assert.Equal(1, server.Room.LeftCount("michael"));
    }

    private static async Task<IMessage?> ReadUntilEndAsync(RawPeer peer)
    {
        peer.HangsUpWhenTheServerDoes = false;
        IMessage? last = null;
        while (await peer.ReceiveAsync().Within() is { } message)
        {
            last = message;
        }

        return last;
    }

    /// <summary>Reads one frame from <paramref name="stream"/>; null at the end of the stream.</summary>
    private static async Task<IMessage?> ReadFrameAsync(Stream stream)
    {
        byte[] header = new byte[4];
        if (!await ReadExactlyOrEndAsync(stream, header))
        {
            return null;
        }

        byte[] body = new byte[BinaryPrimitives.ReadInt32BigEndian(header)];
        Assert.True(await ReadExactlyOrEndAsync(stream, body), "the stream ended in the middle of a frame");
        return MessageSerializer.Read(body, DecoderFuzzTests.s_wire);
    }

    private static async Task<bool> ReadExactlyOrEndAsync(Stream stream, byte[] buffer)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await stream.ReadAsync(buffer.AsMemory(read));
            if (n == 0)
            {
                Assert.Equal(0, read);
                return false;
            }

            read += n;
        }

        return true;
    }
}
