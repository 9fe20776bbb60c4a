using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Hosting;
using StackExchange.Redis;
using Wevis.Orleans.Tests.Messages;
using Wevis.Tests.Shared;

namespace Wevis.Orleans.Tests;

/// <summary>
/// The production setup against a real Redis: Redis clustering (the membership table) and Redis grain storage (a
/// persistent room's state), two silos as two hosts in this process. Runs when <c>WEVIS_REDIS</c> names a Redis
/// (host:port), as <c>.ci/run</c> sets it after installing and starting <c>redis-server</c>; skipped, saying why in
/// capitals, when it does not.
/// </summary>
[Collection("cluster")]
public sealed class RedisTests
{
    [RedisFact]
    public async Task ARoomRunsOnRedisClusteringAndItsStateComesBackFromRedisAfterItsSiloStops()
    {
        string redis = Environment.GetEnvironmentVariable("WEVIS_REDIS")!;
        await AssertReachableAsync(redis);
        string clusterId = "wevis-test-" + Guid.NewGuid().ToString("N")[..8];
        IHost first = await StartSiloAsync(redis, clusterId);
        IHost second = await StartSiloAsync(redis, clusterId);
        try
        {
            // The lobby's code makes the room (join-or-create), on whichever silo Orleans picks.
            await using Client alice = await ConnectAsync("alice", first);
            var moved = new TaskCompletionSource<ClientRoom>(TaskCreationOptions.RunContinuationsAsynchronously);
            alice.RoomChanged += (_, e) =>
            {
                if (e.Room.Type == "notes")
                {
                    moved.TrySetResult(e.Room);
                }
            };
            alice.Send(new Say("join:notes"));
            string roomId = (await moved.Task.Within(TimeSpan.FromSeconds(30))).Id;

            // Bob joins it through the silo that does not host it, and saves a note: it is in Redis once he hears it.
            IHost roomHost = first.Services.GetRequiredService<NodeRooms>().ActiveRooms.Contains(roomId) ? first : second;
            IHost survivor = ReferenceEquals(roomHost, first) ? second : first;
            await using Client bob = await ConnectAsync("bob", survivor);
            await bob.JoinRoomAsync(roomId).Within(TimeSpan.FromSeconds(30));
            bob.Send(new SaveNote("kept in redis"));
            Assert.Equal(new Notes("kept in redis", false), await bob.WaitForAsync<Notes>().Within(TimeSpan.FromSeconds(30)));

            // The room's silo leaves the cluster (Redis's membership table says so); the room comes back on the
            // survivor with the state Redis holds.
            await roomHost.StopAsync().Within(TimeSpan.FromSeconds(60));
            bob.Send(new SaveNote("after"));
            Notes notes = await WaitForNotesAsync(bob, "kept in redis,after");
            Assert.True(notes.Restored);
            Assert.Contains(roomId, survivor.Services.GetRequiredService<NodeRooms>().ActiveRooms);
        }
        finally
        {
            await StopAsync(second);
            await StopAsync(first);
        }
    }

    private static async Task<Notes> WaitForNotesAsync(Client client, string texts)
    {
        while (true)
        {
            Notes notes = await client.WaitForAsync<Notes>().Within(TimeSpan.FromSeconds(60));
            if (notes.Texts == texts)
            {
                return notes;
            }
        }
    }

    private static async Task<IHost> StartSiloAsync(string redis, string clusterId)
    {
        int siloPort = FreePort();
        IHost host = Host.CreateDefaultBuilder()
            .UseOrleans(silo =>
            {
                silo.Configure<ClusterOptions>(options => (options.ClusterId, options.ServiceId) = (clusterId, clusterId));
                silo.ConfigureEndpoints(IPAddress.Loopback, siloPort, gatewayPort: 0);
                silo.UseRedisClustering(redis);
                silo.AddRedisGrainStorage("wevis", options => options.ConfigurationOptions = ConfigurationOptions.Parse(redis));
                silo.Configure<ClusterMembershipOptions>(options =>
                {
                    options.ProbeTimeout = TimeSpan.FromSeconds(1);
                    options.NumMissedProbesLimit = 1;
                    options.NumVotesForDeathDeclaration = 1;
                });
                silo.AddWevisGateway(wevis =>
                {
                    WevisTestCluster.Configure(wevis);
                    wevis.StateStorage = "wevis";
                });
            })
            .Build();
        await host.StartAsync().Within(TimeSpan.FromSeconds(60));
        return host;
    }

    private static async Task<Client> ConnectAsync(string name, IHost silo)
    {
        var client = new Client(name, WevisTestCluster.Password, WevisTestCluster.Version, "127.0.0.1", silo.Services.GetWevisGatewayPort(), new ClientOptions { Messages = WevisRegistry.Messages });
        await client.ConnectAsync().Within(TimeSpan.FromSeconds(20));
        return client;
    }

    private static async Task StopAsync(IHost host)
    {
        try
        {
            await host.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (Exception)
        {
            // Already stopped, or slow to: the test's own result stands.
        }

        host.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task AssertReachableAsync(string redis)
    {
        string[] parts = redis.Split(':');
        using var socket = new TcpClient();
        try
        {
            await socket.ConnectAsync(parts[0], parts.Length > 1 ? int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) : 6379).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception ex)
        {
            Assert.Fail($"WEVIS_REDIS is {redis}, but no Redis answers there ({ex.Message}): start redis-server, or unset WEVIS_REDIS to skip this test.");
        }
    }
}

/// <summary>A test that needs a Redis: skipped, with a loud reason, when <c>WEVIS_REDIS</c> is not set.</summary>
internal sealed class RedisFactAttribute : FactAttribute
{
    public RedisFactAttribute()
    {
        if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("WEVIS_REDIS")))
        {
            string why = Environment.GetEnvironmentVariable("WEVIS_REDIS_UNAVAILABLE") is { Length: > 0 } reason ? reason : "WEVIS_REDIS is not set";
            Skip = $"NO REDIS, THE REDIS CLUSTERING AND STORAGE TEST DID NOT RUN: {why} (.ci/run installs and starts redis-server and sets WEVIS_REDIS=host:port).";
        }
    }
}
