using System.Net;
using System.Net.Sockets;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Messages;

namespace Wevis.Runtime.Tests.Resume;

/// <summary>A client given several servers: connecting and reconnecting move on past one that cannot be reached.</summary>
public class SeveralEndpointsTests
{
    [Fact]
    public async Task ConnectingSkipsAStoppedServerAndLogsInToTheNext()
    {
        await using TestServer server = await TestServer.StartAsync();
        int stopped = StoppedPort();
        await using var client = new Client("michael", "mypassword", TestServer.Version,
            [new DnsEndPoint("127.0.0.1", stopped), new DnsEndPoint("127.0.0.1", server.Port)],
            new ClientOptions { LoggerFactory = server.Log, ConnectTimeout = TimeSpan.FromSeconds(5) });

        await client.ConnectAsync().Within();

        Assert.True(client.IsConnected);
        Assert.Equal(server.Port, client.Port);
        Assert.Equal(2, client.Endpoints.Count);
        Assert.Contains(server.Log.Entries, e => e.EventId.Id == 111);
    }

    [Fact]
    public async Task ConnectingFailsWithTheLastServersReasonWhenNoneAnswers()
    {
        await using var client = new Client("michael", "mypassword", TestServer.Version,
            [new DnsEndPoint("127.0.0.1", StoppedPort()), new DnsEndPoint("127.0.0.1", StoppedPort())]);

        ConnectionFailedException failure = await Assert.ThrowsAsync<ConnectionFailedException>(() => client.ConnectAsync().Within());

        Assert.Contains($"127.0.0.1:{client.Endpoints[1].Port}", failure.Message);
    }

    [Fact]
    public async Task ReconnectingMovesOnToTheNextServerWhenTheFirstIsGone()
    {
        var room = new ResumeRoom();
        await using TestServer server = await ResumeExchange.StartServerAsync(room);
        var proxy = new FaultProxy(server.Port);
        await using var several = new Client("user1", "pw", TestServer.Version,
            [new DnsEndPoint("127.0.0.1", proxy.Port), new DnsEndPoint("127.0.0.1", server.Port)],
            new ClientOptions
            {
                LoggerFactory = server.Log,
                ResumeSessions = true,
                ReconnectDelay = TimeSpan.FromMilliseconds(20),
                MaxReconnectDelay = TimeSpan.FromMilliseconds(250),
                ServerTimeout = TimeSpan.FromSeconds(1.5),
            });
        await several.ConnectAsync().Within();
        Assert.Equal(proxy.Port, several.Port);

        int replies = await ResumeExchange.RunAsync(several, 600, 50, afterReply: n =>
        {
            if (n == 200)
            {
                // The first "server" is gone for good: it neither keeps the connection nor takes new ones. Its
                // listener closes within DisposeAsync's first step; the connection is cut here and now (disposing
                // cuts it too, but only after the accept loop has ended, by when the exchange may be over).
                _ = proxy.DisposeAsync().AsTask();
                proxy.BreakAll(FaultKind.Reset);
            }
        }).Within(TimeSpan.FromSeconds(30));

        Assert.Equal(600, replies);
        Assert.Equal(1, several.ResumeCount);
        Assert.Equal(server.Port, several.Port);
        Assert.Equal(0, room.Duplicates);
        Assert.Equal(0, room.Gaps);
    }

    private static int StoppedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
