using System.Buffers;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using Wevis.Orleans.Tests.Messages;
using Wevis.Tests.Shared;
using Wevis.Transport;

namespace Wevis.Orleans.Tests;

/// <summary>
/// How a gateway writes what rooms send its users: a call's frames go out in one flush batch, so each connection is
/// flushed once per call, as a single server flushes once per broadcast batch, instead of once per frame.
/// </summary>
[Collection("cluster")]
public sealed class GatewayDeliveryTests
{
    private const int Listeners = 40;
    private const int Burst = 16;

    [Fact]
    public async Task OneCallOfRecordsFlushesEachConnectionOnce()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync(silos: 2, configure: QuietConnections);
        InProcessSiloHandle silo = cluster.Silos[0];
        Client[] clients = await ConnectListenersAsync(cluster, silo);
        try
        {
            WevisGateway gateway = silo.ServiceProvider.GetRequiredService<WevisGateway>();
            RoomDirectory directory = silo.ServiceProvider.GetRequiredService<NodeRooms>().Directory;
            long[] sessions = [.. gateway.Users.Select(user => user.Key)];
            Assert.Equal(Listeners, sessions.Length);

            // What a room's outbox makes of 16 broadcasts to everyone here: one repeat record each.
            var records = new ArrayBufferWriter<byte>();
            for (int n = 0; n < Burst; n++)
            {
                FrameBuffer frame = directory.Encode(new Said("room", "burst", n));
                int start = records.WrittenCount;
                GatewayRecords.WriteFrame(records, sessions[0], frame.Frame);
                GatewayRecords.EndRepeat(records, start, sessions.AsSpan(1));
                FrameBuffer.Return(frame);
            }

            Dictionary<string, long> before = FlushCounts(gateway);
            await gateway.Receive(0, 0, records.WrittenSpan.ToArray());
            await ExpectBurstAsync(clients);

            Dictionary<string, long> flushes = Deltas(before, FlushCounts(gateway));
            Assert.True(flushes.Values.All(n => n == 1), $"one call of {Burst} frames per user flushed connections {Describe(flushes)} times");
        }
        finally
        {
            await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask()));
        }
    }

    [Fact]
    public async Task ABurstOfBroadcastsFromARoomOnAnotherNodeFlushesEachConnectionAtMostOncePerCall()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync(silos: 2, chatCapacity: Listeners + 1, configure: QuietConnections);
        string roomId = await cluster.CreateRoomAsync("chat");
        InProcessSiloHandle host = cluster.HostOf(roomId)!;
        InProcessSiloHandle listenersSilo = cluster.Silos.First(s => s.SiloAddress != host.SiloAddress);
        Client[] clients = await ConnectListenersAsync(cluster, listenersSilo);

        // The sender on the room's own node, so the listeners' gateway carries nothing of the sender's.
        await using Client sender = await cluster.ConnectAsync("sender", host);
        try
        {
            await Task.WhenAll(clients.Select(c => c.JoinRoomAsync(roomId))).Within(TimeSpan.FromSeconds(30));
            await sender.JoinRoomAsync(roomId).Within();
            WevisGateway gateway = listenersSilo.ServiceProvider.GetRequiredService<WevisGateway>();
            Dictionary<string, long> before = FlushCounts(gateway);
            long callsBefore = gateway.ReceiveCalls;

            // 16 messages in flight, each broadcast to all 41 users.
            for (int n = 0; n < Burst; n++)
            {
                sender.Send(new Say("burst"));
            }

            await ExpectBurstAsync(clients);
            long calls = gateway.ReceiveCalls - callsBefore;
            Dictionary<string, long> flushes = Deltas(before, FlushCounts(gateway));
            Assert.True(
                flushes.Values.All(n => n <= calls),
                $"{Burst} broadcasts reached the gateway in {calls} calls, and flushed connections {Describe(flushes)} times");
        }
        finally
        {
            await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask()));
        }
    }

    /// <summary>No pings while the test counts flushes: only what rooms send is flushed.</summary>
    private static void QuietConnections(WevisClusterOptions wevis) => wevis.Gateway.PingInterval = TimeSpan.FromMinutes(5);

    private static async Task<Client[]> ConnectListenersAsync(WevisTestCluster cluster, InProcessSiloHandle silo)
    {
        var clients = new List<Client>();
        for (int i = 0; i < Listeners; i++)
        {
            Client client = await cluster.ConnectAsync($"listener{i}", silo);
            clients.Add(client);

            // Once the lobby answers, it has entered the user and what it sent on entry is out: nothing else is
            // on its way to this connection when the test starts counting flushes.
            client.Send(new WhereAmI());
            await client.WaitForAsync<YouAreIn>().Within();
        }

        return [.. clients];
    }

    /// <summary>Each client gets the burst's messages, in order.</summary>
    private static async Task ExpectBurstAsync(Client[] clients)
    {
        foreach (Client client in clients)
        {
            int? first = null;
            for (int n = 0; n < Burst; n++)
            {
                Said said = await client.WaitForAsync<Said>().Within(TimeSpan.FromSeconds(20));
                Assert.Equal("burst", said.Text);
                first ??= said.Seq;
                Assert.Equal(first + n, said.Seq);
            }
        }
    }

    private static Dictionary<string, long> FlushCounts(WevisGateway gateway) =>
        gateway.Users.ToDictionary(user => user.Session.User!.Name, user => user.Session.Transport.FlushCount);

    private static Dictionary<string, long> Deltas(Dictionary<string, long> before, Dictionary<string, long> after) =>
        after.Where(pair => pair.Key.StartsWith("listener", StringComparison.Ordinal)).ToDictionary(pair => pair.Key, pair => pair.Value - before[pair.Key]);

    private static string Describe(Dictionary<string, long> flushes) =>
        string.Join(" and ", flushes.Values.Distinct().Order());
}
