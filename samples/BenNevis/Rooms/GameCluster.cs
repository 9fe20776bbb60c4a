using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Wevis;
using Wevis.Orleans;

namespace BenNevis.Rooms;

/// <summary>
/// The game on a cluster: the same lobby and match rooms as <see cref="GameServer"/>, on Orleans silos that are each
/// a Wevis gateway. <see cref="StartLocalAsync"/> starts several silos in this process with localhost clustering,
/// a cluster on one machine for trying it out; in production each silo is its own process on its own machine, with
/// Redis clustering (docs/scale-out.md).
/// </summary>
public static class GameCluster
{
    /// <summary>The game's rooms and login on a silo's gateway: <see cref="GameServer.Create"/>'s, for a cluster.</summary>
    /// <remarks>
    /// <paramref name="history"/> is this silo's: silos in one process share it; silos on different machines each
    /// keep their own (a shared leaderboard would live in a grain or a store).
    /// </remarks>
    public static void Configure(WevisClusterOptions wevis, MatchSettings settings, MatchHistory history, string password = GameServer.DefaultPassword)
    {
        ArgumentNullException.ThrowIfNull(wevis);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(history);
        settings.Validate();
        wevis.Login = GameServer.Login(password);
        wevis.EntryRoom = () => new LobbyRoom(history);
        wevis.Define(
            GameServer.MatchType,
            () => new MatchRoom(settings, history),
            new RoomTypeOptions { Capacity = settings.Players, ClientsMayJoin = false, ClientsMayCreate = false });
        wevis.Gateway.Messages ??= WevisRegistry.Messages;
    }

    /// <summary>
    /// Starts <paramref name="nodes"/> silos in this process, clustered on localhost (the first is the primary), each a
    /// Wevis gateway on a free port of 127.0.0.1; returns them, started. Stop them with <see cref="StopAsync"/>.
    /// </summary>
    public static async Task<IReadOnlyList<IHost>> StartLocalAsync(int nodes, MatchSettings settings, MatchHistory history, ILoggerFactory? logging = null, string password = GameServer.DefaultPassword)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nodes, 1);
        string cluster = $"bennevis-{Environment.ProcessId}";
        int primaryPort = FreePort();
        var hosts = new List<IHost>();
        try
        {
            for (int i = 0; i < nodes; i++)
            {
                int siloPort = i == 0 ? primaryPort : FreePort();
                HostApplicationBuilder builder = Host.CreateApplicationBuilder();
                builder.Logging.ClearProviders();
                if (logging is not null)
                {
                    builder.Services.AddSingleton(logging);
                }

                builder.UseOrleans(silo =>
                {
                    silo.UseLocalhostClustering(siloPort, FreePort(), new IPEndPoint(IPAddress.Loopback, primaryPort), serviceId: cluster, clusterId: cluster);
                    silo.AddWevisGateway(wevis =>
                    {
                        Configure(wevis, settings, history, password);
                        wevis.Gateway.Host = "127.0.0.1";
                        wevis.Gateway.Port = 0;
                        wevis.Gateway.LoggerFactory = logging;
                    });
                });
                IHost host = builder.Build();
                hosts.Add(host);
                await host.StartAsync().ConfigureAwait(false);
            }

            return hosts;
        }
        catch
        {
            await StopAsync(hosts).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The port each silo's Wevis gateway listens on.</summary>
    public static int GatewayPort(IHost silo) => silo.Services.GetWevisGatewayPort();

    /// <summary>Stops the silos, the primary last.</summary>
    public static async Task StopAsync(IReadOnlyList<IHost> hosts)
    {
        foreach (IHost host in hosts.Reverse())
        {
            try
            {
                await host.StopAsync().WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
            {
                // A silo slow to leave: the process is ending anyway.
            }

            host.Dispose();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
