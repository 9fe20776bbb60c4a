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
            Assert.Equal("user7", (await again.ReceiveAsync<YouAre>().Within()).Name);
        }

        healthy.Send(new WhoAmI());
        Assert.Equal("user1", (await healthy.ReceiveAsync<YouAre>().Within()).Name);

        // Once the server has stopped, every connection's clean-up has run: each enter has exactly one leave.
        await server.Server.StopAsync().Within();
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

        await Task.WhenAll(Enumerable.Range(0, peers).Select(i => KillAsync(server, $"user{100 + i}", points[i % points.Length]))).Within();
        await ExampleExchangeTests.WaitUntilAsync(() => server.Server.ConnectionCount == healthy.Length && server.Server.PendingLogins == 0);

        for (int i = 0; i < peers; i++)
        {
            Assert.Equal(0, server.Server.ConnectionsOf($"user{100 + i}"));
        }

        foreach (Client client in healthy)
        {
            client.Send(new WhoAmI());
            Assert.Equal(client.Username, (await client.ReceiveAsync<YouAre>().Within()).Name);
        }

        // Everyone can log in again at once.
        Client[] again = await Task.WhenAll(Enumerable.Range(0, peers).Select(i => server.ConnectAsync($"user{100 + i}", "pw")));
        await Task.WhenAll(again.Select(c => c.DisposeAsync().AsTask())).Within();
        await server.Server.StopAsync().Within();
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
                Assert.Equal(client.Username, (await client.ReceiveAsync<YouAre>().Within()).Name);
            }

            // The server closes first, so its side of each connection is left in TIME_WAIT: the next bind must not mind.
            await server.Server.StopAsync().Within();
            foreach (Client client in clients)
            {
                await Assert.ThrowsAsync<ConnectionClosedException>(async () => await client.ReceiveAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10))).Within();
                await client.DisposeAsync().Within();
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
                Assert.Equal(i, (await client.ReceiveAsync<NumberedReply>().Within()).Sequence);
            }
        })).Within();

        Assert.Equal(20, server.Log.Entries.Count(e => e.Level == LogLevel.Error && e.Exception is InvalidOperationException));
        Assert.All(clients, c => Assert.True(c.IsConnected));
        Assert.Equal(0, server.Room.TotalLeft);
        Assert.Equal(0, server.Room.OutOfOrder);
        await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask())).Within();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AHandlerThatBlocksDelaysOthersButLosesNothingAndDropsNoOne(bool blockThread)
    {
        // The room is held while the clock runs through several ping intervals and timeouts: waiting for the room
        // is not the peers' silence.
        var room = new BlockingRoom(blockThread);
        var clock = new TestClock();
        ServerOptions defaults = new();
        await using TestServer server = await TestServer.StartAsync(room: room, clock: clock);
        Client[] clients = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => server.ConnectAsync($"user{i}", "pw"))).Within();

        clients[0].Send(new Explode("block"));
        await room.Blocking.Task.Within();
        foreach (Client client in clients)
        {
            for (int i = 0; i < 100; i++)
            {
                client.Send(new Numbered(i));
            }
        }

        // Every connection is now waiting for the room, its messages unread behind it.
        await ExampleExchangeTests.WaitUntilAsync(() => server.Room.Connections.All(TestServer.IsDispatching));
        for (int i = 0; i < 3; i++)
        {
            clock.Advance(defaults.PingInterval + defaults.PingTimeout);
        }

        Assert.Equal(0, server.Room.TotalLeft);
        room.Unblock();
        await Task.WhenAll(clients.Select(async client =>
        {
            for (int i = 0; i < 100; i++)
            {
                Assert.Equal(i, (await client.ReceiveAsync<NumberedReply>().Within()).Sequence);
            }
        })).Within();

        Assert.All(clients, c => Assert.True(c.IsConnected, c.CloseReason));
        Assert.DoesNotContain(server.Log.Entries, e => e.Level >= LogLevel.Error);
        Assert.Equal(0, server.Room.TotalLeft);
        Assert.Equal(400, server.Room.NumberedHandled);
        Assert.Equal(0, server.Room.OutOfOrder);
        await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask())).Within();
    }

    [Fact]
    public async Task AnUnexpectedErrorInAConnectionIsLoggedAndCleanedUp()
    {
        // A hand-written descriptor with a bug: reading it throws something other than ProtocolException.
        MessageRegistry messages = MessageRegistry.Combine(WevisRegistry.Messages, new MessageRegistry([BrokenDescriptor.Instance]));
        await using TestServer server = await TestServer.StartAsync(o => o.Messages = messages);
        using RawPeer peer = server.CreateRawPeer();
        var welcome = Assert.IsType<Welcome>(await peer.ReceiveAsync().Within());
        await peer.SendAsync(new Login("user3", Credentials.Encrypt("pw", welcome.Salt), TestServer.Version, messages.Fingerprint)).Within();
        Assert.IsType<LoginAccepted>(await peer.ReceiveAsync().Within());

        await peer.SendRawAsync(RawPeerFaults.Prefixed(6, [0x91, 0xce, .. BitConverter.GetBytes(BrokenDescriptor.Id).Reverse()])).Within();
        await peer.ReceiveUntilClosedAsync().Within();

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
        var welcome = Assert.IsType<Welcome>(await peer.ReceiveAsync().Within());
        byte[] login = RawPeer.Frame(new Login(user, Credentials.Encrypt("pw", welcome.Salt), TestServer.Version, WevisRegistry.Messages.Fingerprint));
        switch (point)
        {
            case KillPoint.AfterWelcome:
                break;
            case KillPoint.MidLoginFrame:
                await peer.SendRawAsync(login[..(login.Length / 2)]).Within();
                break;
            case KillPoint.DuringLoginCheck:
                // The validator takes 50 ms: the reset arrives while it runs.
                await peer.SendRawAsync(login).Within();
                break;
            default:
                await peer.SendRawAsync(login).Within();
                Assert.IsType<LoginAccepted>(await peer.ReceiveAsync().Within());
                Assert.IsType<RoomChanged>(await peer.ReceiveAsync().Within());
                Assert.IsType<ServerReady>(await peer.ReceiveAsync().Within());
                break;
        }

        switch (point)
        {
            case KillPoint.MidFrame:
                byte[] frame = RawPeer.Frame(new PleaseMayIHaveSomeFloats(1, 1));
                await peer.SendRawAsync(frame[..^3]).Within();
                break;
            case KillPoint.MidReply:
                // Ask for an 8 MB reply, take the first bytes of it, and die while the server is still writing.
                for (int i = 0; i < 10; i++)
                {
                    await peer.SendAsync(new PleaseMayIHaveSomeFloats(0, 100_000)).Within();
                }

                await peer.Socket.ReceiveAsync(new byte[1000], SocketFlags.None).Within();
                break;
        }

        peer.Kill();
    }

    /// <summary>
    /// A room whose <c>Explode("block")</c> handler holds the room until <see cref="Unblock"/>, asynchronously or by
    /// blocking its thread.
    /// </summary>
    private sealed class BlockingRoom(bool blockThread) : TimeRoom
    {
        private readonly ManualResetEventSlim _released = new();
        private readonly TaskCompletionSource _releasedAsync = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Blocking { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Unblocked { get; private set; }

        public void Unblock()
        {
            _released.Set();
            _releasedAsync.TrySetResult();
        }

        protected override async ValueTask HandleAsync(Connection connection, IMessage message)
        {
            if (message is Explode { Reason: "block" })
            {
                Blocking.TrySetResult();
                if (blockThread)
                {
                    Assert.True(_released.Wait(TimeSpan.FromSeconds(30)), "the test never released the room");
                }
                else
                {
                    await _releasedAsync.Task.WaitAsync(TimeSpan.FromSeconds(30));
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
