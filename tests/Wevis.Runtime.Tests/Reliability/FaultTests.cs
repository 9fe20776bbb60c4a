using System.Net.Sockets;
using Example;
using Microsoft.Extensions.Logging;
using Wevis.Protocol;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Messages;
using Wevis.Runtime.Tests.Networking;
using Xunit.Abstractions;

namespace Wevis.Runtime.Tests.Reliability;

/// <summary>
/// Faults: clients that die abruptly at every stage, a server restarted on the same port at once, and room
/// handlers that throw or block. Each user's leave hook runs exactly once, per-user counts return to zero, and
/// nobody else's messages are lost.
/// </summary>
public class FaultTests(ITestOutputHelper output)
{
    /// <summary>Where in its life a killed peer dies.</summary>
    public enum KillPoint
    {
        AfterWelcome,
        MidLoginFrame,
        DuringLoginCheck,
        MidFrame,
        MidReply,
        WhileIdle,
    }

    public static TheoryData<KillPoint> KillPoints => [.. Enum.GetValues<KillPoint>()];

    [Theory]
    [MemberData(nameof(KillPoints))]
    public async Task AKilledClientLeavesOnceAndItsUserCanLogInAgain(KillPoint point)
    {
        TestServer server = await TestServer.StartAsync(validator: SlowValidator);
        await using Client healthy = await server.ConnectAsync("user1", "pw");

        await KillAsync(server, "user7", point);
        await ExampleExchangeTests.WaitUntilAsync(() => server.Server.ConnectionCount == 1 && server.Server.PendingLogins == 0 && server.Server.ConnectionsOf("user7") == 0);
        Assert.Equal(server.Room.EnteredCount("user7"), server.Room.LeftCount("user7"));

        // The user is not left counted as online: they log in again, and the healthy client never noticed.
        await using (Client again = await server.ConnectAsync("user7", "pw"))
        {
            again.Send(new WhoAmI());
            Assert.Equal("user7", (await again.ReceiveAsync<YouAre>()).Name);
        }

        healthy.Send(new WhoAmI());
        Assert.Equal("user1", (await healthy.ReceiveAsync<YouAre>()).Name);

        // Once the server has stopped, every connection's clean-up has run: each enter has exactly one leave.
        await server.Server.StopAsync();
        int entered = server.Room.EnteredCount("user7");
        Assert.Equal(point >= KillPoint.DuringLoginCheck ? 2 : 1, entered);
        Assert.Equal(entered, server.Room.LeftCount("user7"));
        Assert.Equal(1, server.Room.LeftCount("user1"));
        Assert.DoesNotContain(server.Log.Entries, e => e.Level >= LogLevel.Error);
        output.WriteLine($"{point}: {server.Log.Entries.First(e => e.EventId.Id == 11 && e.Message.StartsWith("Connection #2 ", StringComparison.Ordinal)).Message}");
    }

    [Fact]
    public async Task ManyClientsKilledAtEveryStageAtOnceLeaveNothingBehind()
    {
        const int peers = 60;
        TestServer server = await TestServer.StartAsync(o => o.MaxConnectionsPerUser = 1, validator: SlowValidator);
        Client[] healthy = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => server.ConnectAsync($"user{i}", "pw")));
        KillPoint[] points = Enum.GetValues<KillPoint>();

        await Task.WhenAll(Enumerable.Range(0, peers).Select(i => KillAsync(server, $"user{100 + i}", points[i % points.Length])));
        await ExampleExchangeTests.WaitUntilAsync(() => server.Server.ConnectionCount == healthy.Length && server.Server.PendingLogins == 0);

        for (int i = 0; i < peers; i++)
        {
            Assert.Equal(0, server.Server.ConnectionsOf($"user{100 + i}"));
        }

        foreach (Client client in healthy)
        {
            client.Send(new WhoAmI());
            Assert.Equal(client.Username, (await client.ReceiveAsync<YouAre>()).Name);
        }

        // Everyone can log in again at once.
        Client[] again = await Task.WhenAll(Enumerable.Range(0, peers).Select(i => server.ConnectAsync($"user{100 + i}", "pw")));
        await Task.WhenAll(again.Select(c => c.DisposeAsync().AsTask()));
        await server.Server.StopAsync();
        for (int i = 0; i < peers; i++)
        {
            string user = $"user{100 + i}";
            Assert.Equal(server.Room.EnteredCount(user), server.Room.LeftCount(user));
        }

        Assert.Equal(0, server.Server.PendingLogins);
        Assert.DoesNotContain(server.Log.Entries, e => e.Level >= LogLevel.Error);
        output.WriteLine($"{peers} peers killed; {server.Room.TotalLeft} leave hooks ran in all, one per enter.");
    }

    [Fact]
    public async Task AServerStoppedAndStartedAgainOnTheSamePortServesAtOnce()
    {
        int port = 0;
        for (int round = 0; round < 3; round++)
        {
            TestServer server = await TestServer.StartAsync(o => o.Port = port);
            port = server.Port;
            Client[] clients = await Task.WhenAll(Enumerable.Range(0, 5).Select(i => server.ConnectAsync($"user{i}", "pw")));
            foreach (Client client in clients)
            {
                client.Send(new WhoAmI());
                Assert.Equal(client.Username, (await client.ReceiveAsync<YouAre>()).Name);
            }

            // The server closes first, so its side of each connection is left in TIME_WAIT: the next bind must not mind.
            await server.Server.StopAsync();
            foreach (Client client in clients)
            {
                await Assert.ThrowsAsync<ConnectionClosedException>(async () => await client.ReceiveAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
                await client.DisposeAsync();
            }

            Assert.Equal(5, server.Room.TotalLeft);
        }
    }

    [Fact]
    public async Task AHandlerThatThrowsLosesNoOneElsesMessages()
    {
        await using TestServer server = await TestServer.StartAsync();
        Client[] clients = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => server.ConnectAsync($"user{i}", "pw")));

        await Task.WhenAll(clients.Select(async (client, c) =>
        {
            for (int i = 0; i < 200; i++)
            {
                client.Send(new Numbered(i));
                if (c == 0 && i % 10 == 0)
                {
                    client.Send(new Explode($"failure {i}"));
                }
            }

            for (int i = 0; i < 200; i++)
            {
                Assert.Equal(i, (await client.ReceiveAsync<NumberedReply>()).Sequence);
            }
        }));

        Assert.Equal(20, server.Log.Entries.Count(e => e.Level == LogLevel.Error && e.Exception is InvalidOperationException));
        Assert.All(clients, c => Assert.True(c.IsConnected));
        Assert.Equal(0, server.Room.TotalLeft);
        Assert.Equal(0, server.Room.OutOfOrder);
        await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask()));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AHandlerThatBlocksDelaysOthersButLosesNothingAndDropsNoOne(bool blockThread)
    {
        // The block lasts several ping intervals plus timeouts: waiting on the room is not the peers' silence.
        var room = new BlockingRoom(TimeSpan.FromMilliseconds(1500), blockThread);
        await using TestServer server = await TestServer.StartAsync(
            o =>
            {
                o.PingInterval = TimeSpan.FromMilliseconds(200);
                o.PingTimeout = TimeSpan.FromMilliseconds(400);
            },
            room);
        Client[] clients = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => server.ConnectAsync($"user{i}", "pw")));

        clients[0].Send(new Explode("block"));
        await room.Blocking.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await Task.WhenAll(clients.Select(async client =>
        {
            for (int i = 0; i < 100; i++)
            {
                client.Send(new Numbered(i));
            }

            for (int i = 0; i < 100; i++)
            {
                Assert.Equal(i, (await client.ReceiveAsync<NumberedReply>().AsTask().WaitAsync(TimeSpan.FromSeconds(20))).Sequence);
            }
        }));

        Assert.True(room.Unblocked, "replies arrived before the blocking handler returned: it did not hold the room");
        Assert.All(clients, c => Assert.True(c.IsConnected, c.CloseReason));
        Assert.Equal(0, server.Room.TotalLeft);
        Assert.Equal(400, server.Room.NumberedHandled);
        Assert.Equal(0, server.Room.OutOfOrder);
        await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask()));
    }

    [Fact]
    public async Task AnUnexpectedErrorInAConnectionIsLoggedAndCleanedUp()
    {
        // A hand-written descriptor with a bug: reading it throws something other than ProtocolException.
        MessageRegistry messages = MessageRegistry.Combine(WevisRegistry.Messages, new MessageRegistry([BrokenDescriptor.Instance]));
        await using TestServer server = await TestServer.StartAsync(o => o.Messages = messages);
        using RawPeer peer = server.CreateRawPeer();
        var welcome = Assert.IsType<Welcome>(await peer.ReceiveAsync());
        await peer.SendAsync(new Login("user3", Credentials.Encrypt("pw", welcome.Salt), TestServer.Version, messages.Fingerprint));
        Assert.IsType<LoginAccepted>(await peer.ReceiveAsync());

        await peer.SendRawAsync(RawPeerFaults.Prefixed(6, [0x91, 0xce, .. BitConverter.GetBytes(BrokenDescriptor.Id).Reverse()]));
        await peer.ReceiveUntilClosedAsync();

        LogEntry error = await server.Log.WaitForAsync(e => e.Level == LogLevel.Error && e.Exception is NotSupportedException);
        Assert.Contains("user3", error.Message, StringComparison.Ordinal);
        await ExampleExchangeTests.WaitUntilAsync(() => server.Server.ConnectionCount == 0);
        Assert.Equal(0, server.Server.PendingLogins);
        Assert.Equal(0, server.Server.ConnectionsOf("user3"));
        Assert.Equal(1, server.Room.LeftCount("user3"));
    }

    /// <summary>The test validator, but taking 50 ms, so a peer can die while its login is being checked.</summary>
    private static async ValueTask<LoginResult> SlowValidator(string username, string password, string salt, string version, CancellationToken cancellationToken)
    {
        await Task.Delay(50, cancellationToken);
        return TestServer.Validate(username, password, salt, version);
    }

    private static async Task KillAsync(TestServer server, string user, KillPoint point)
    {
        using RawPeer peer = server.CreateRawPeer();
        var welcome = Assert.IsType<Welcome>(await peer.ReceiveAsync());
        byte[] login = RawPeer.Frame(new Login(user, Credentials.Encrypt("pw", welcome.Salt), TestServer.Version, WevisRegistry.Messages.Fingerprint));
        switch (point)
        {
            case KillPoint.AfterWelcome:
                break;
            case KillPoint.MidLoginFrame:
                await peer.SendRawAsync(login[..(login.Length / 2)]);
                break;
            case KillPoint.DuringLoginCheck:
                // The validator takes 50 ms: the reset arrives while it runs.
                await peer.SendRawAsync(login);
                break;
            default:
                await peer.SendRawAsync(login);
                Assert.IsType<LoginAccepted>(await peer.ReceiveAsync());
                Assert.IsType<RoomChanged>(await peer.ReceiveAsync());
                Assert.IsType<ServerReady>(await peer.ReceiveAsync());
                break;
        }

        switch (point)
        {
            case KillPoint.MidFrame:
                byte[] frame = RawPeer.Frame(new PleaseMayIHaveSomeFloats(1, 1));
                await peer.SendRawAsync(frame[..^3]);
                break;
            case KillPoint.MidReply:
                // Ask for an 8 MB reply, take the first bytes of it, and die while the server is still writing.
                for (int i = 0; i < 10; i++)
                {
                    await peer.SendAsync(new PleaseMayIHaveSomeFloats(0, 100_000));
                }

                await peer.Socket.ReceiveAsync(new byte[1000], SocketFlags.None);
                break;
        }

        peer.Kill();
    }

    /// <summary>A room whose <c>Explode("block")</c> handler holds the room for a while, asynchronously or by blocking its thread.</summary>
    private sealed class BlockingRoom(TimeSpan blockFor, bool blockThread) : TimeRoom
    {
        public TaskCompletionSource Blocking { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Unblocked { get; private set; }

        protected override async ValueTask HandleAsync(Connection connection, IMessage message)
        {
            if (message is Explode { Reason: "block" })
            {
                Blocking.TrySetResult();
                if (blockThread)
                {
                    Thread.Sleep(blockFor);
                }
                else
                {
                    await Task.Delay(blockFor);
                }

                Unblocked = true;
                return;
            }

            Assert.True(Unblocked || message is not Numbered, "a message was handled while the room was held");
            Handle(connection, message);
        }
    }

    /// <summary>A message type whose reading always fails with a non-protocol exception, as a buggy hand-written descriptor might.</summary>
    private sealed class BrokenDescriptor : MessageDescriptor
    {
        public const int Id = 0x0BAD_C0DE;

        private BrokenDescriptor()
            : base("Broken", Id, typeof(BrokenMessage), [])
        {
        }

        public static BrokenDescriptor Instance { get; } = new();

        public override void Write(ref MessagePack.MessagePackWriter writer, IMessage message)
        {
            writer.WriteArrayHeader(1);
            writer.Write(Id);
        }

        public override IMessage ReadArguments(ref MessagePack.MessagePackReader reader) =>
            throw new NotSupportedException("this descriptor has a bug");
    }

    private sealed record BrokenMessage : IMessage
    {
        public MessageDescriptor Descriptor => BrokenDescriptor.Instance;
    }
}
