using Example;
using Wevis.Protocol;
using Wevis.Runtime.Tests.Infrastructure;

namespace Wevis.Runtime.Tests.Networking;

/// <summary>The server pings quiet connections and drops those that do not answer; healthy idle clients stay.</summary>
public class KeepAliveTests
{
    private static Task<TestServer> StartAsync() => TestServer.StartAsync(o =>
    {
        o.PingInterval = TimeSpan.FromMilliseconds(150);
        o.PingTimeout = TimeSpan.FromMilliseconds(200);
    });

    [Fact]
    public async Task AClientThatStopsAnsweringPingsIsDropped()
    {
        await using TestServer server = await StartAsync();
        using RawPeer peer = server.CreateRawPeer();
        Assert.IsType<LoginAccepted>(await peer.LoginAsync());

        // Read, but never answer: the server pings after 150 ms of quiet and gives up 200 ms later.
        List<IMessage> received = await peer.ReceiveUntilClosedAsync();

        Assert.Contains(received, m => m is Ping);
        Assert.Equal("no answer to a ping within 0.2 s", Assert.IsType<Closing>(received[^1]).Reason);
        Connection left = await server.Room.FirstLeave.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("no answer to a ping within 0.2 s", left.CloseReason);
    }

    [Fact]
    public async Task AHealthyIdleClientIsPingedAndStays()
    {
        await using TestServer server = await StartAsync();
        await using Client client = await server.ConnectAsync();

        // Several ping intervals of silence from the application; the client answers the pings by itself.
        await server.Log.WaitForAsync(e => e.EventId.Id == 40);
        await Task.Delay(TimeSpan.FromMilliseconds(800));

        Assert.True(client.IsConnected);
        int pings = server.Log.Entries.Count(e => e.EventId.Id == 40);
        Assert.True(pings >= 3, $"expected several pings over 800 ms at a 150 ms interval, saw {pings}: ");
        client.Send(new WhoAmI());
        Assert.IsType<YouAre>(await client.ReceiveAsync());
        Assert.Equal(0, server.Room.TotalLeft);
    }

    [Fact]
    public async Task AClientNoticesAServerThatFallsSilentAndAPendingReceiveEnds()
    {
        // A "server" that logs the client in by hand, then never sends anything again (a dead host, say).
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        Task serving = Task.Run(async () =>
        {
            using System.Net.Sockets.Socket socket = await listener.AcceptSocketAsync();
            await socket.SendAsync(RawPeer.Frame(new Welcome(WireProtocol.Version, "salt", WevisRegistry.Messages.Fingerprint)));
            byte[] buffer = new byte[4096];
            await socket.ReceiveAsync(buffer);
            await socket.SendAsync(RawPeer.Frame(new LoginAccepted()));
            while (await socket.ReceiveAsync(buffer) > 0)
            {
            }
        });
        await using var client = new Client("michael", "mypassword", TestServer.Version, "127.0.0.1", port, new ClientOptions
        {
            ServerTimeout = TimeSpan.FromMilliseconds(300),
        });
        await client.ConnectAsync();

        ConnectionClosedException ex = await Assert.ThrowsAsync<ConnectionClosedException>(async () => await client.ReceiveAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal("nothing arrived from the server for 0.3 s", ex.Reason);
        await serving.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task ALoginThatNeverFinishesTimesOut()
    {
        // A listener that accepts and never welcomes.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        await using var client = new Client("michael", "mypassword", TestServer.Version, "127.0.0.1", port, new ClientOptions
        {
            ConnectTimeout = TimeSpan.FromMilliseconds(300),
        });

        ConnectionFailedException ex = await Assert.ThrowsAsync<ConnectionFailedException>(() => client.ConnectAsync());
        Assert.Contains("within 0.3 s", ex.Message, StringComparison.Ordinal);
    }
}
