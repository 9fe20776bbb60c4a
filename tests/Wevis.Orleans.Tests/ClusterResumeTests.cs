using System.Net;
using System.Text.Json;
using Orleans.TestingHost;
using Wevis.Orleans.Tests.Messages;
using Wevis.Tests.Shared;

namespace Wevis.Orleans.Tests;

/// <summary>Resumable sessions on the cluster: a lost connection and a dead room node cost the user no acknowledged message.</summary>
[Collection("cluster")]
public sealed class ClusterResumeTests
{
    [Fact]
    public async Task ASessionResumesOnItsGatewayAfterCutsWithNothingLostOrRepeated()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync(configure: NoticeLostConnectionsFast);
        string roomId = await cluster.CreateRoomAsync("numbered");
        // The room on another node than the gateway: drops, resumes and replies all cross the cluster.
        InProcessSiloHandle gateway = cluster.Silos.First(s => s.SiloAddress != cluster.HostOf(roomId)!.SiloAddress);
        await using var proxy = new FaultProxy(cluster.PortOf(gateway));
        string user = "ada-" + Guid.NewGuid().ToString("N")[..8];
        await using Client client = CreateClient(user, [new("127.0.0.1", proxy.Port)]);
        await client.ConnectAsync().Within(TimeSpan.FromSeconds(20));
        await client.JoinRoomAsync(roomId).Within();

        FaultKind[] cuts = [FaultKind.Reset, FaultKind.Close, FaultKind.BlackHole];
        var (replies, repeats) = await ExchangeAsync(client, 2000, 50, n =>
        {
            if (n % 500 == 0 && n / 500 <= cuts.Length)
            {
                proxy.BreakAll(cuts[(n / 500) - 1]);
            }
        }).Within(TimeSpan.FromSeconds(90));

        Assert.Equal(2000, replies);
        Assert.Empty(repeats);
        NumberedLedger ledger = NumberedLedger.For(user);
        Assert.Equal(2000, Volatile.Read(ref ledger.Next));
        Assert.Equal(0, Volatile.Read(ref ledger.Duplicates));
        Assert.Equal(0, Volatile.Read(ref ledger.Gaps));
        Assert.Equal(3, client.ResumeCount);

        // The room heard of each drop the gateway noticed, and of the resume that followed, through its grain; no leave.
        await ledger.Changes.Until(() => Volatile.Read(ref ledger.Resumed) == Volatile.Read(ref ledger.Dropped) && Volatile.Read(ref ledger.Dropped) > 0);
        Assert.Equal(0, Volatile.Read(ref ledger.Leaves));
    }

    [Fact]
    public async Task KillingTheRoomsSiloMidExchangeLosesNoAcknowledgedMessageAndTheExchangeCompletes()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync();
        string roomId = await cluster.CreateRoomAsync("tally");
        InProcessSiloHandle host = cluster.HostOf(roomId)!;
        InProcessSiloHandle gateway = cluster.Silos.First(s => s != host);
        string user = "bea-" + Guid.NewGuid().ToString("N")[..8];
        await using Client client = CreateClient(user, [new("127.0.0.1", cluster.PortOf(gateway))]);
        await client.ConnectAsync().Within(TimeSpan.FromSeconds(20));
        await client.JoinRoomAsync(roomId).Within();

        const int Count = 400;
        long acknowledgedAtKill = -1;
        Task? killing = null;
        var (replies, repeats) = await ExchangeAsync(client, Count, 20, n =>
        {
            if (n == 100)
            {
                // The server's acknowledgement counts the join (the first sequenced message) too.
                acknowledgedAtKill = Math.Max(0, client.AcknowledgedByServer - 1);
                killing = cluster.Cluster.KillSiloAsync(host);
            }
        }).Within(TimeSpan.FromSeconds(90));
        await killing!.Within(TimeSpan.FromSeconds(30));

        // Every message was answered; answers seen twice are of messages not yet acknowledged when the node died
        // (handled by the dead node, then again by the room restarted elsewhere: at least once, not exactly once).
        Assert.Equal(Count, replies);
        Assert.All(repeats, r => Assert.True(r >= acknowledgedAtKill, $"reply {r} came twice, but {acknowledgedAtKill} messages were acknowledged before the node died"));
        Assert.NotEqual(host.SiloAddress, cluster.HostOf(roomId)?.SiloAddress);

        // The room's saved state has every message, in order, handled twice only past what was acknowledged.
        TallyState state = JsonSerializer.Deserialize<TallyState>((await cluster.Store.ReadAsync(roomId)).AsSpan())!;
        Assert.Equal(Enumerable.Range(0, Count), state.Seen.Distinct().Order());
        int expected = 0;
        foreach (int seen in state.Seen)
        {
            if (seen == expected)
            {
                expected++;
            }
            else
            {
                Assert.True(seen < expected && seen >= acknowledgedAtKill, $"the room handled {seen} when {expected} was next ({acknowledgedAtKill} acknowledged at the kill)");
            }
        }
    }

    [Fact]
    public async Task ADeliveryMadeAgainIsHandledOnlyAsFarAsItIsNew()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync();
        string roomId = await cluster.CreateRoomAsync("numbered");
        IGatewayObserver gateway = cluster.Cluster.Client.CreateObjectReference<IGatewayObserver>(new SilentGateway());
        string name = "cy-" + Guid.NewGuid().ToString("N")[..8];
        var user = new ClusterUser("a-gateway", 1, name, gateway, Resumable: false);
        IRoomGrain room = cluster.Cluster.Client.GetGrain<IRoomGrain>(roomId);
        Assert.Null(await room.Enter(user, "numbered", 0, string.Empty, seatHeld: false, force: false, handled: 0, sent: null, entry: 1).Within());

        Assert.Equal(3, (await room.Deliver(user, "numbered", Frames(0, 3), first: 0).Within()).Handled);

        // The same call made again (its answer was lost), with one more message: only the new one is handled.
        Assert.Equal(4, (await room.Deliver(user, "numbered", Frames(0, 4), first: 0).Within()).Handled);
        NumberedLedger ledger = NumberedLedger.For(name);
        Assert.Equal(4, Volatile.Read(ref ledger.Next));
        Assert.Equal(0, Volatile.Read(ref ledger.Duplicates));
        Assert.Equal(0, Volatile.Read(ref ledger.Gaps));

        static byte[] Frames(int from, int count)
        {
            var frames = new List<byte>();
            for (int i = from; i < from + count; i++)
            {
                Wevis.Transport.FrameBuffer frame = Wevis.Transport.FrameBuffer.Encode(new Numbered(i));
                frames.AddRange(frame.Frame);
                Wevis.Transport.FrameBuffer.Return(frame);
            }

            return [.. frames];
        }
    }

    internal static void NoticeLostConnectionsFast(WevisClusterOptions wevis)
    {
        wevis.Gateway.PingInterval = TimeSpan.FromMilliseconds(250);
        wevis.Gateway.PingTimeout = TimeSpan.FromMilliseconds(750);
    }

    /// <param name="patience">How long a connect and login may take, and the server be silent meanwhile (default 5 s and 1.5 s).</param>
    internal static Client CreateClient(string user, IReadOnlyList<DnsEndPoint> gateways, TimeSpan? patience = null) =>
        new(user, WevisTestCluster.Password, WevisTestCluster.Version, gateways, new ClientOptions
        {
            Messages = WevisRegistry.Messages,
            ResumeSessions = true,
            ReconnectDelay = TimeSpan.FromMilliseconds(20),
            MaxReconnectDelay = TimeSpan.FromMilliseconds(250),
            ServerTimeout = patience ?? TimeSpan.FromSeconds(1.5),
            ConnectTimeout = patience ?? TimeSpan.FromSeconds(5),
        });

    /// <summary>
    /// Sends <c>Numbered</c> 0..<paramref name="count"/>-1, at most <paramref name="window"/> unanswered, until each
    /// is answered. Replies must come in order; one already seen is noted as a repeat, one ahead of the next is a gap
    /// (an exception). Returns how many distinct replies came, and the repeats.
    /// </summary>
    /// <summary>
    /// <see cref="ExchangeAsync"/>, crashing <paramref name="gateway"/> (<see cref="WevisTestCluster.CrashGatewayAsync"/>)
    /// once reply <paramref name="at"/> is in; returns when the exchange is done and the gateway's silo stopped.
    /// </summary>
    internal static async Task<(int Replies, List<int> Repeats)> ExchangeCrashingAsync(WevisTestCluster cluster, Client client, int count, int window, int at, InProcessSiloHandle gateway, TimeSpan? within = null)
    {
        Task? killing = null;
        var exchanged = await ExchangeAsync(client, count, window, n =>
        {
            if (n == at)
            {
                killing = cluster.CrashGatewayAsync(gateway);
            }
        }).Within(within ?? TimeSpan.FromSeconds(60));
        await killing!.Within(TimeSpan.FromSeconds(30));
        return exchanged;
    }

    internal static async Task<(int Replies, List<int> Repeats)> ExchangeAsync(Client client, int count, int window, Action<int>? afterReply = null, Action<IMessage>? other = null)
    {
        int sent = 0;
        int next = 0;
        List<int> repeats = [];
        while (next < count)
        {
            while (sent < count && sent - next < window)
            {
                client.Send(new Numbered(sent++));
            }

            IMessage received = await client.ReceiveAsync();
            if (received is not NumberedReply(int sequence))
            {
                other?.Invoke(received);
                continue;
            }

            if (sequence > next)
            {
                throw new InvalidOperationException($"{client.Username}: reply {sequence} arrived when {next} was expected");
            }

            if (sequence < next)
            {
                repeats.Add(sequence);
                continue;
            }

            next++;
            afterReply?.Invoke(next);
        }

        return (next, repeats);
    }

    private sealed class SilentGateway : IGatewayObserver
    {
        public Task Receive(long stream, long number, byte[] records) => Task.CompletedTask;

        public Task HandOver(long session) => Task.CompletedTask;
    }
}
