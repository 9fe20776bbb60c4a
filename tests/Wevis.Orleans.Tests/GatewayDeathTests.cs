using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using Wevis.Orleans.Tests.Messages;
using Wevis.Protocol;
using Wevis.Serialization;
using Wevis.Tests.Shared;

namespace Wevis.Orleans.Tests;

/// <summary>
/// A gateway dies (or a client leaves it for another): its users' clients reconnect to another gateway and resume
/// there, with nothing lost or repeated; a forged token is refused; a user nobody resumes leaves after the grace period.
/// </summary>
[Collection("cluster")]
public sealed class GatewayDeathTests
{
    [Fact]
    public async Task ClientsOfACrashedGatewayResumeAtAnotherWithEveryReplyOnceAndInOrder()
    {
        // No state store: the sessions' records live only in their grains, which are placed away from their gateway.
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync(configure: w => w.StateStore = null);
        string roomId = await cluster.CreateRoomAsync("numbered");
        InProcessSiloHandle roomHost = cluster.HostOf(roomId)!;
        List<InProcessSiloHandle> gateways = [.. cluster.Silos.Where(s => s != roomHost)];
        (InProcessSiloHandle doomed, InProcessSiloHandle other) = (gateways[0], gateways[1]);
        DnsEndPoint[] endpoints = [new("127.0.0.1", cluster.PortOf(doomed)), new("127.0.0.1", cluster.PortOf(other))];

        string run = Guid.NewGuid().ToString("N")[..8];
        List<Client> clients = [];
        try
        {
            for (int i = 0; i < 3; i++)
            {
                Client client = ClusterResumeTests.CreateClient($"u{i}-{run}", endpoints);
                clients.Add(client);
                await client.ConnectAsync().Within(TimeSpan.FromSeconds(20));
                Assert.Equal(endpoints[0].Port, client.Port);
                await client.JoinRoomAsync(roomId).Within();
            }

            const int Count = 400;
            Task? killing = null;
            var exchanges = clients.Select((client, i) => ClusterResumeTests.ExchangeAsync(client, Count, 20, n =>
            {
                if (i == 0 && n == 150)
                {
                    // The gateway's process vanishes mid-exchange (no goodbyes to rooms), then its silo dies.
                    killing = cluster.CrashGatewayAsync(doomed);
                }
            })).ToList();
            var results = await Task.WhenAll(exchanges).Within(TimeSpan.FromSeconds(120));
            await killing!.Within(TimeSpan.FromSeconds(30));

            for (int i = 0; i < clients.Count; i++)
            {
                Client client = clients[i];
                // Every reply exactly once, in order (ExchangeAsync throws on a gap), through the other gateway now.
                Assert.Equal(Count, results[i].Replies);
                Assert.Empty(results[i].Repeats);
                Assert.Equal(endpoints[1].Port, client.Port);
                Assert.True(client.ResumeCount >= 1, $"{client.Username} did not resume");

                // The room handled each message exactly once, and the user never left it.
                NumberedLedger ledger = NumberedLedger.For(client.Username);
                Assert.Equal(Count, Volatile.Read(ref ledger.Next));
                Assert.Equal(0, Volatile.Read(ref ledger.Duplicates));
                Assert.Equal(0, Volatile.Read(ref ledger.Gaps));
                Assert.Equal(0, Volatile.Read(ref ledger.Leaves));
            }
        }
        finally
        {
            foreach (Client client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task FramesARoomSendsWhileItsUsersAreTakenOverArriveOnceAndInOrder()
    {
        // A room that sends every 5 ms whatever its users do: some pulses leave it while a takeover is under way.
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync();
        string roomId = await cluster.CreateRoomAsync("pulsed");
        InProcessSiloHandle roomHost = cluster.HostOf(roomId)!;
        List<InProcessSiloHandle> gateways = [.. cluster.Silos.Where(s => s != roomHost)];
        DnsEndPoint[] endpoints = [new("127.0.0.1", cluster.PortOf(gateways[0])), new("127.0.0.1", cluster.PortOf(gateways[1]))];
        string run = Guid.NewGuid().ToString("N")[..8];
        List<Client> clients = [];
        try
        {
            for (int i = 0; i < 3; i++)
            {
                Client client = ClusterResumeTests.CreateClient($"p{i}-{run}", endpoints);
                clients.Add(client);
                await client.ConnectAsync().Within(TimeSpan.FromSeconds(20));
                await client.JoinRoomAsync(roomId).Within();
            }

            Task? killing = null;
            var pulses = clients.Select(_ => new PulseCheck()).ToList();
            var exchanges = clients.Select((client, i) => ClusterResumeTests.ExchangeAsync(
                client,
                300,
                10,
                n =>
                {
                    if (i == 0 && n == 100)
                    {
                        killing = cluster.CrashGatewayAsync(gateways[0]);
                    }
                },
                pulses[i].See)).ToList();
            var results = await Task.WhenAll(exchanges).Within(TimeSpan.FromSeconds(120));
            await killing!.Within(TimeSpan.FromSeconds(30));

            for (int i = 0; i < clients.Count; i++)
            {
                Assert.Equal(300, results[i].Replies);
                Assert.Empty(results[i].Repeats);
                Assert.Equal(endpoints[1].Port, clients[i].Port);
                Assert.True(pulses[i].Seen > 10, $"{clients[i].Username} saw only {pulses[i].Seen} pulses");
                Assert.True(pulses[i].Problems.Count == 0, $"{clients[i].Username}: {string.Join("; ", pulses[i].Problems.Take(5))}");
            }
        }
        finally
        {
            foreach (Client client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task AFastStreamOfLargeRepliesStaysResumableAtAnotherGateway()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync();
        var (client, roomId, gateways, ports) = await StreamLargeAnswersAsync(cluster);
        await using (client)
        {
            var resumed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            client.Resumed += (_, _) => resumed.TrySetResult();
            await cluster.CrashGatewayAsync(gateways[0]).Within(TimeSpan.FromSeconds(30));

            // The answer may be replayed before the resume is counted: both are waited for.
            Assert.Equal(new Answer(roomId, "after"), await client.RequestAsync(new Ask("after")).AsTask().Within(TimeSpan.FromSeconds(30)));
            await resumed.Task.Within(TimeSpan.FromSeconds(30));
            Assert.Equal(1, client.ResumeCount);
            Assert.Equal(ports[1], client.Port);
        }
    }

    [Fact]
    public async Task ASessionTheRoomCouldNotKeepIsRefusedElsewhereWithWhy()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync();
        try
        {
            // The room never hears the client's acknowledgements: what it holds for the user passes its bound.
            GrainCalls.Failing = "IRoomGrain.Acknowledge";
            var (client, _, gateways, _) = await StreamLargeAnswersAsync(cluster);
            await using (client)
            {
                await cluster.CrashGatewayAsync(gateways[0]).Within(TimeSpan.FromSeconds(30));

                ConnectionClosedException closed = await Assert.ThrowsAsync<ConnectionClosedException>(() => client.RequestAsync(new Ask("after")).AsTask().Within(TimeSpan.FromSeconds(30)));
                Assert.EndsWith("resume refused: the session could not be kept: more than 4194304 bytes were waiting for the peer's acknowledgement", closed.Message);
            }
        }
        finally
        {
            GrainCalls.Failing = null;
        }
    }

    /// <summary>
    /// A resumable client (its gateways first, the room's node last) in a new chat room, answered 100 times with
    /// 100 KB (10 MB), 8 asked for at a time: the room keeps what the client has not acknowledged, within 4 MiB, and
    /// hears of acknowledgements from the gateway once a second unless the gateway sees a user sent much; a stream this
    /// fast would pass the bound within the second.
    /// </summary>
    private static async Task<(Client Client, string RoomId, InProcessSiloHandle[] Gateways, int[] Ports)> StreamLargeAnswersAsync(WevisTestCluster cluster)
    {
        string roomId = await cluster.CreateRoomAsync("chat");
        InProcessSiloHandle roomHost = cluster.HostOf(roomId)!;
        InProcessSiloHandle[] gateways = [.. cluster.Silos.Where(s => s != roomHost)];
        int[] ports = [.. gateways.Append(roomHost).Select(cluster.PortOf)];
        Client client = ClusterResumeTests.CreateClient("big-" + Guid.NewGuid().ToString("N")[..8], [.. ports.Select(p => new DnsEndPoint("127.0.0.1", p))]);
        await client.ConnectAsync().Within(TimeSpan.FromSeconds(20));
        await client.JoinRoomAsync(roomId).Within();
        string question = new('q', 100_000);
        var asking = new List<Task<Answer>>();
        for (int i = 0; i < 100; i++)
        {
            if (asking.Count == 8)
            {
                Assert.Equal(question, (await asking[0].Within()).Question);
                asking.RemoveAt(0);
            }

            asking.Add(client.RequestAsync(new Ask(question)).AsTask());
        }

        await Task.WhenAll(asking).Within();
        return (client, roomId, gateways, ports);
    }

    [Fact]
    public async Task AClientThatComesBackAfterTheDeathIsKnownIsHeldAsDroppedThenResumed()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync();
        string roomId = await cluster.CreateRoomAsync("numbered");
        InProcessSiloHandle roomHost = cluster.HostOf(roomId)!;
        List<InProcessSiloHandle> gateways = [.. cluster.Silos.Where(s => s != roomHost)];
        string user = "gu-" + Guid.NewGuid().ToString("N")[..8];

        // Slow to reconnect (4 s before each attempt, the first to the dead gateway): the cluster declares the death
        // first, so the room holds the user as dropped before the resume takes them over.
        await using var client = new Client(user, WevisTestCluster.Password, WevisTestCluster.Version, [new("127.0.0.1", cluster.PortOf(gateways[0])), new("127.0.0.1", cluster.PortOf(gateways[1]))], new ClientOptions
        {
            Messages = WevisRegistry.Messages,
            ResumeSessions = true,
            ReconnectDelay = TimeSpan.FromSeconds(4),
            MaxReconnectDelay = TimeSpan.FromSeconds(4),
            ServerTimeout = TimeSpan.FromSeconds(30),
        });
        await client.ConnectAsync().Within(TimeSpan.FromSeconds(20));
        await client.JoinRoomAsync(roomId).Within();
        NumberedLedger ledger = NumberedLedger.For(user);

        var (replies, repeats) = await ClusterResumeTests.ExchangeCrashingAsync(cluster, client, 200, 20, 80, gateways[0], TimeSpan.FromSeconds(90));

        Assert.Equal(200, replies);
        Assert.Empty(repeats);
        Assert.Equal(cluster.PortOf(gateways[1]), client.Port);
        Assert.Equal(200, Volatile.Read(ref ledger.Next));
        Assert.Equal(0, Volatile.Read(ref ledger.Duplicates));
        Assert.Equal(0, Volatile.Read(ref ledger.Gaps));

        // The drop hook ran when the death was known, the resume hook at the takeover; no leave.
        Assert.Equal(1, Volatile.Read(ref ledger.Dropped));
        Assert.Equal(1, Volatile.Read(ref ledger.Resumed));
        Assert.Equal(0, Volatile.Read(ref ledger.Leaves));
    }

    [Fact]
    public async Task WithoutAStateStoreARecordThatDiedWithAnotherNodeIsMadeAgainSoTheGatewaysDeathIsStillSurvived()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync(silos: 4, configure: w => w.StateStore = null);
        InProcessSiloHandle gateway = cluster.Silos[0];
        string user = "ha-" + Guid.NewGuid().ToString("N")[..8];
        DnsEndPoint[] endpoints = [.. cluster.Silos.Select(s => new DnsEndPoint("127.0.0.1", cluster.PortOf(s)))];
        await using Client client = ClusterResumeTests.CreateClient(user, endpoints);
        int registers = GrainCalls.To("ISessionGrain").GetValueOrDefault("ISessionGrain.Register");
        await client.ConnectAsync().Within(TimeSpan.FromSeconds(20));

        // The session's record is on another node (made by the gateway's first call to it); the user's room on a third.
        await GrainCalls.Reached("ISessionGrain.Register", registers + 1).Within(what: "the gateway's call to record the session");
        InProcessSiloHandle recordHost = (await SessionGrainHostAsync(cluster))!;
        Assert.NotEqual(gateway.SiloAddress, recordHost.SiloAddress);
        string roomId = await cluster.CreateRoomAsync("numbered");
        for (int i = 0; i < 30 && (cluster.HostOf(roomId) == gateway || cluster.HostOf(roomId) == recordHost); i++)
        {
            roomId = await cluster.CreateRoomAsync("numbered");
        }

        Assert.True(cluster.HostOf(roomId) != gateway && cluster.HostOf(roomId) != recordHost, "no room landed on a third node");
        await client.JoinRoomAsync(roomId).Within();

        // The record's node dies: the gateway hears of it and records the session again, on a live node.
        registers = GrainCalls.To("ISessionGrain").GetValueOrDefault("ISessionGrain.Register");
        await cluster.Cluster.KillSiloAsync(recordHost).Within(TimeSpan.FromSeconds(30));
        await GrainCalls.Reached("ISessionGrain.Register", registers + 1).Within(TimeSpan.FromSeconds(30), "the gateway's call to record the session again");
        Assert.True(await SessionGrainHostAsync(cluster) is { } host && host != recordHost, "the session's record is not on a live node");

        // Then the gateway dies mid-exchange: the client resumes at another, nothing lost or repeated.
        var (replies, repeats) = await ClusterResumeTests.ExchangeCrashingAsync(cluster, client, 200, 20, 60, gateway, TimeSpan.FromSeconds(90));
        Assert.Equal(200, replies);
        Assert.Empty(repeats);
        NumberedLedger ledger = NumberedLedger.For(user);
        Assert.Equal(200, Volatile.Read(ref ledger.Next));
        Assert.Equal(0, Volatile.Read(ref ledger.Duplicates));
    }

    /// <summary>The silo where the (one) session grain is active, if any.</summary>
    private static async Task<InProcessSiloHandle?> SessionGrainHostAsync(WevisTestCluster cluster)
    {
        DetailedGrainStatistic[] grains = await cluster.Cluster.Client.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics().Within();
        SiloAddress? address = grains.FirstOrDefault(grain => grain.GrainType.StartsWith(typeof(SessionGrain).FullName + ",", StringComparison.Ordinal))?.SiloAddress;
        return cluster.Silos.FirstOrDefault(silo => silo.SiloAddress.Equals(address));
    }

    [Fact]
    public async Task AClientThatLeavesALiveGatewayResumesAtAnotherWhichTheOldOneHandsTheSessionTo()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync(configure: ClusterResumeTests.NoticeLostConnectionsFast);
        string roomId = await cluster.CreateRoomAsync("numbered");
        InProcessSiloHandle roomHost = cluster.HostOf(roomId)!;
        List<InProcessSiloHandle> gateways = [.. cluster.Silos.Where(s => s != roomHost)];
        var proxy = new FaultProxy(cluster.PortOf(gateways[0]));
        string user = "di-" + Guid.NewGuid().ToString("N")[..8];
        await using Client client = ClusterResumeTests.CreateClient(user, [new("127.0.0.1", proxy.Port), new("127.0.0.1", cluster.PortOf(gateways[1]))]);
        await client.ConnectAsync().Within(TimeSpan.FromSeconds(20));
        await client.JoinRoomAsync(roomId).Within();
        int handOvers = GrainCalls.FinishedCount("IGatewayObserver.HandOver");

        var (replies, repeats) = await ClusterResumeTests.ExchangeAsync(client, 300, 20, n =>
        {
            if (n == 100)
            {
                // The way to the first gateway is gone (reset, and refused from now on); that gateway lives on.
                _ = proxy.DisposeAsync().AsTask(); // its listener closes at once: a reconnect cannot come back here
                proxy.BreakAll(FaultKind.Reset);
            }
        }).Within(TimeSpan.FromSeconds(90));

        Assert.Equal(300, replies);
        Assert.Empty(repeats);
        Assert.Equal(cluster.PortOf(gateways[1]), client.Port);
        NumberedLedger ledger = NumberedLedger.For(user);
        Assert.Equal(300, Volatile.Read(ref ledger.Next));
        Assert.Equal(0, Volatile.Read(ref ledger.Duplicates));
        Assert.Equal(0, Volatile.Read(ref ledger.Leaves));

        // The old gateway let the session go when asked to hand it over, without a leave, and holds the user no more.
        WevisGateway old = gateways[0].ServiceProvider.GetRequiredService<WevisGateway>();
        await GrainCalls.FinishedAt("IGatewayObserver.HandOver", handOvers + 1).Within(what: "the old gateway's hand-over of the session");
        Assert.Empty(old.Users);
        Assert.Equal(0, Volatile.Read(ref ledger.Leaves));

        // The room heard the drop (from the old gateway, which noticed the reset) and the resume (from the takeover).
        await ledger.Changes.Until(() => Volatile.Read(ref ledger.Dropped) == 1);
        Assert.Equal(1, Volatile.Read(ref ledger.Resumed));
    }

    [Fact]
    public async Task AForgedTokenOrAnotherUsersTokenIsRefusedAtAnotherGatewayAndTheSessionGoesOn()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync();
        string roomId = await cluster.CreateRoomAsync("numbered");
        string user = "ed-" + Guid.NewGuid().ToString("N")[..8];
        await using Client owner = ClusterResumeTests.CreateClient(user, [new("127.0.0.1", cluster.PortOf(cluster.Silos[0]))]);
        await owner.ConnectAsync().Within(TimeSpan.FromSeconds(20));
        await owner.JoinRoomAsync(roomId).Within();
        int elsewhere = cluster.PortOf(cluster.Silos[1]);

        Assert.Equal("resume refused: the resume token is not valid", await ResumeRawAsync(elsewhere, user, "AAAAAAAAAAAAAAAAAAAAAA"));
        Assert.Equal("resume refused: the resume token belongs to another user's session", await ResumeRawAsync(elsewhere, "mallory", owner.ResumeToken!));
        Assert.Equal("resume refused: the resume token is not valid", await ResumeRawAsync(elsewhere, user, owner.ResumeToken! + "x"));

        // The owner's session was not disturbed.
        var (replies, repeats) = await ClusterResumeTests.ExchangeAsync(owner, 20, 5).Within(TimeSpan.FromSeconds(30));
        Assert.Equal(20, replies);
        Assert.Empty(repeats);
        Assert.Equal(0, Volatile.Read(ref NumberedLedger.For(user).Leaves));
    }

    [Fact]
    public async Task AUserOfADeadGatewayWhoseClientDoesNotComeBackLeavesTheRoomAfterTheGracePeriod()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync(configure: wevis => wevis.Gateway.ResumeGracePeriod = TimeSpan.FromSeconds(3));
        string roomId = await cluster.CreateRoomAsync("numbered");
        InProcessSiloHandle roomHost = cluster.HostOf(roomId)!;
        List<InProcessSiloHandle> gateways = [.. cluster.Silos.Where(s => s != roomHost)];
        string user = "fa-" + Guid.NewGuid().ToString("N")[..8];

        // The client knows only the gateway that dies: it cannot come back.
        await using Client client = ClusterResumeTests.CreateClient(user, [new("127.0.0.1", cluster.PortOf(gateways[0]))]);
        await client.ConnectAsync().Within(TimeSpan.FromSeconds(20));
        await client.JoinRoomAsync(roomId).Within();
        Assert.Equal(5, (await ClusterResumeTests.ExchangeAsync(client, 5, 5).Within()).Replies);
        string token = client.ResumeToken!;

        await cluster.CrashGatewayAsync(gateways[0]).Within(TimeSpan.FromSeconds(30));

        // Held as dropped once the death is known (drop hook), then gone after the grace period (leave hook).
        NumberedLedger ledger = NumberedLedger.For(user);
        await ledger.Changes.Until(() => Volatile.Read(ref ledger.Dropped) == 1, TimeSpan.FromSeconds(30));
        Assert.Equal(0, Volatile.Read(ref ledger.Leaves));
        await ledger.Changes.Until(() => Volatile.Read(ref ledger.Leaves) == 1, TimeSpan.FromSeconds(30));

        // The session's record ended with it: a late resume is refused, and told why (as a single server tells it).
        Assert.Equal("resume refused: the session expired: the client did not come back within the grace period of 3 s", await ResumeRawAsync(cluster.PortOf(gateways[1]), user, token));
    }

    /// <summary>Checks that a client's pulses come one after another: none missing, none twice, none out of order.</summary>
    private sealed class PulseCheck
    {
        private int _last = -1;

        public int Seen { get; private set; }

        public List<string> Problems { get; } = [];

        public void See(IMessage message)
        {
            if (message is not Said { From: "pulse" } pulse)
            {
                return;
            }

            if (_last >= 0 && pulse.Seq != _last + 1)
            {
                Problems.Add($"pulse {pulse.Seq} came after {_last}");
            }

            _last = pulse.Seq;
            Seen++;
        }
    }

    /// <summary>Logs in to <paramref name="port"/> as <paramref name="user"/> asking to resume <paramref name="token"/>; the refusal's reason, or what came.</summary>
    private static async Task<string> ResumeRawAsync(int port, string user, string token)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, port).Within();
        await using var stream = new NetworkStream(socket);
        var welcome = (Welcome)await ReadAsync(stream).Within();
        await WriteAsync(stream, new Resume(token, 0));
        await WriteAsync(stream, new Login(user, Credentials.Encrypt(WevisTestCluster.Password, welcome.Salt), WevisTestCluster.Version, WevisRegistry.Messages.Fingerprint));
        IMessage answer = await ReadAsync(stream).Within(TimeSpan.FromSeconds(30));
        if (answer is Resumed)
        {
            answer = await ReadAsync(stream).Within();
        }

        return answer is LoginRejected rejected ? rejected.Reason : answer.ToString()!;
    }

    private static readonly MessageRegistry Wire = MessageRegistry.Combine(Wevis.WevisRegistry.Messages, WevisRegistry.Messages);

    private static async Task<IMessage> ReadAsync(Stream stream)
    {
        byte[] head = new byte[4];
        await stream.ReadExactlyAsync(head);
        byte[] body = new byte[BinaryPrimitives.ReadInt32BigEndian(head)];
        await stream.ReadExactlyAsync(body);
        return MessageSerializer.Read(body, Wire);
    }

    private static async Task WriteAsync(Stream stream, IMessage message)
    {
        byte[] body = MessageSerializer.ToBytes(message);
        byte[] frame = new byte[4 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, body.Length);
        body.CopyTo(frame, 4);
        await stream.WriteAsync(frame);
    }
}
