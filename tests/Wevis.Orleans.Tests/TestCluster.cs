using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.TestingHost;
using Wevis.Tests.Shared;

namespace Wevis.Orleans.Tests;

/// <summary>
/// Orleans' in-process test cluster of three silos on loopback, each a Wevis gateway on a free port, with the test
/// rooms defined; clients log in to any gateway.
/// </summary>
internal sealed class WevisTestCluster : IAsyncDisposable
{
    public const string Password = "secret";
    public const string Version = "1";

    private WevisTestCluster(InProcessTestCluster cluster, MemoryRoomStateStore store, TestLog log)
    {
        Cluster = cluster;
        Store = store;
        Log = log;
    }

    public InProcessTestCluster Cluster { get; }

    public MemoryRoomStateStore Store { get; }

    /// <summary>What the silos logged under Wevis categories, from Debug up.</summary>
    public TestLog Log { get; }

    public IReadOnlyList<InProcessSiloHandle> Silos => Cluster.Silos;

    public static async Task<WevisTestCluster> StartAsync(int silos = 3, int chatCapacity = 6, Action<WevisClusterOptions>? configure = null, TimeSpan? responseTimeout = null)
    {
        var store = new MemoryRoomStateStore();
        var log = new TestLog();
        var builder = new InProcessTestClusterBuilder((short)silos);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddLogging(logging => logging.AddProvider(log).AddFilter<TestLog>(null, LogLevel.None).AddFilter<TestLog>("Wevis", LogLevel.Debug));

            // Quick to declare a killed silo dead, so failure tests take seconds.
            silo.Configure<ClusterMembershipOptions>(options =>
            {
                options.ProbeTimeout = TimeSpan.FromSeconds(1);
                options.NumMissedProbesLimit = 1;
                options.NumVotesForDeathDeclaration = 1;
                options.TableRefreshTimeout = TimeSpan.FromSeconds(1);
                options.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(1);
            });
            silo.Configure<SiloMessagingOptions>(options => options.ResponseTimeout = responseTimeout ?? TimeSpan.FromSeconds(5));
            silo.AddIncomingGrainCallFilter(async context =>
            {
                GrainCalls.Count(context.InterfaceName, context.MethodName);
                if (GrainCalls.ShouldFail(context.InterfaceName, context.MethodName))
                {
                    throw new InvalidOperationException($"{context.MethodName} fails (a test's fault)");
                }

                if (GrainCalls.FaultFor(context.InterfaceName, context.MethodName, context.TargetId.Key.ToString()) is { } fault)
                {
                    throw fault;
                }

                await GrainCalls.HeldUntil(context.InterfaceName, context.MethodName);
                await context.Invoke();
                GrainCalls.CountFinished(context.InterfaceName, context.MethodName, context.Request.GetArgumentCount() > 0 ? context.Request.GetArgument(0) : null);
                if (GrainCalls.TakeLosingReply(context.InterfaceName, context.MethodName))
                {
                    // Done, but the caller hears a timeout: as when the reply is lost.
                    throw new TimeoutException($"the reply to {context.MethodName} was lost (a test's fault)");
                }
            });
            silo.AddWevisGateway(wevis =>
            {
                Configure(wevis, chatCapacity);
                wevis.StateStore = store;
                configure?.Invoke(wevis);
            });
        });
        InProcessTestCluster cluster = builder.Build();
        await cluster.DeployAsync().Within(TimeSpan.FromSeconds(60));
        return new WevisTestCluster(cluster, store, log);
    }

    /// <summary>The test rooms and login, on a gateway at a free port of 127.0.0.1.</summary>
    public static void Configure(WevisClusterOptions wevis, int chatCapacity = 6)
    {
        wevis.Login = (name, password, salt, version) => Credentials.Verify(password, Password, salt) ? new User(name) : "wrong password";
        wevis.EntryRoom = () => new TestLobby();
        wevis.Define<ChatRoom>("chat", new RoomTypeOptions { Capacity = chatCapacity });
        wevis.Define<ChatRoom>("table", new RoomTypeOptions { Capacity = 4 });
        wevis.Define<NotesRoom>("notes");
        wevis.Define<NumberedRoom>("numbered");
        wevis.Define<PulsedRoom>("pulsed");
        wevis.Define<TallyRoom>("tally");
        wevis.Define<HopRoom>("hop");
        wevis.Define<LoopRoom>("loop", new RoomTypeOptions { AutoDispose = false });
        wevis.Define<SlowLeaveRoom>("slowleave");
        wevis.Gateway.Host = "127.0.0.1";
        wevis.Gateway.Port = 0;
        wevis.Gateway.Messages = WevisRegistry.Messages;
    }

    public int PortOf(InProcessSiloHandle silo) => silo.ServiceProvider.GetWevisGatewayPort();

    /// <summary>The silo whose node hosts the room with <paramref name="roomId"/>, if any.</summary>
    public InProcessSiloHandle? HostOf(string roomId) =>
        Cluster.Silos.FirstOrDefault(silo => silo.IsActive && silo.ServiceProvider.GetRequiredService<NodeRooms>().ActiveRooms.Contains(roomId));

    /// <summary>The silo where the room type's grain (its part of the directory) is active; null if it is not active.</summary>
    public async Task<InProcessSiloHandle?> HostOfTypeGrainAsync(string type)
    {
        DetailedGrainStatistic[] grains = await Cluster.Client.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics().Within();
        SiloAddress? address = grains.FirstOrDefault(grain => grain.GrainType.StartsWith(typeof(RoomTypeGrain).FullName + ",", StringComparison.Ordinal) && grain.GrainId.Key.ToString() == type)?.SiloAddress;
        return Cluster.Silos.FirstOrDefault(silo => silo.SiloAddress.Equals(address));
    }

    public async Task<Client> ConnectAsync(string name, InProcessSiloHandle silo)
    {
        var client = new Client(name, Password, Version, "127.0.0.1", PortOf(silo), new ClientOptions { Messages = WevisRegistry.Messages });
        await client.ConnectAsync().Within(TimeSpan.FromSeconds(20));
        return client;
    }

    /// <summary>
    /// Crashes <paramref name="silo"/>'s gateway (its clients' connections cut at once, nothing said to the cluster,
    /// as when its process dies) and kills the silo; completes when the silo is stopped.
    /// </summary>
    public Task CrashGatewayAsync(InProcessSiloHandle silo)
    {
        silo.ServiceProvider.GetRequiredService<WevisGateway>().Crash();
        return Cluster.KillSiloAsync(silo);
    }

    /// <summary>Makes a room of <paramref name="type"/> through the cluster (no user in it yet); its id.</summary>
    public async Task<string> CreateRoomAsync(string type)
    {
        SeatAnswer answer = await Cluster.Client.GetGrain<IRoomTypeGrain>(type).Create(null).Within();
        await Cluster.Client.GetGrain<IRoomGrain>(answer.RoomId!).ReleaseSeat(type, null).Within();
        return answer.RoomId!;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Cluster.StopAllSilosAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (Exception)
        {
            // A failed stop must not hide the test's own result.
        }

        await Cluster.DisposeAsync();
    }
}
