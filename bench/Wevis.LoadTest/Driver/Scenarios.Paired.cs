using Wevis.LoadTest.Clients;
using Wevis.LoadTest.Servers;

namespace Wevis.LoadTest.Driver;

/// <summary>
/// c) and f) in paired blocks: every system's server runs at once, each with its own clients connected, and the
/// systems take turns in short blocks, so each Wevis block has a raw block (and a SignalR block) beside it in time.
/// </summary>
/// <remarks>
/// This machine's speed drifts by a fifth from one five-second window to the next (other tenants of the host): with
/// one long window per system per round, c)'s Wevis ÷ raw ratio ranged from 0.59 to 0.96 over seven runs of the same
/// code. A ratio taken within a cycle of adjacent blocks cancels the drift slower than a cycle; the median over cycles
/// drops the cycles a burst of noise hit. a) has always been measured this way.
/// </remarks>
internal sealed partial class Scenarios
{
    /// <summary>
    /// c) and d): <see cref="LoadTestSettings.ClientsInstances"/> times a fresh server per system, all running, with
    /// <see cref="LoadTestSettings.Clients"/> clients each in strict request/response; per instance, cycles of one
    /// block per system, whose order alternates per cycle.
    /// </summary>
    /// <remarks>
    /// Why several instances a round: how a fresh pair of server and clients settles (threads, tiered compilation)
    /// moved a system's CPU per round trip by a quarter from one instance to the next, for the floor and Wevis alike
    /// and not together; the cycles of one instance agreed with each other, so with one instance a round the median
    /// over 15 cycles was little better than a median of three.
    /// </remarks>
    private async Task ManyClientsAsync(SystemKind[] order, Dictionary<SystemKind, SystemRound> figures)
    {
        var blocks = order.ToDictionary(s => s, _ => new List<(double PerSecond, double P99)>());
        var allocatedPerRoundTrip = order.ToDictionary(s => s, _ => new List<double>());
        var cpuPerRoundTrip = order.ToDictionary(s => s, _ => new List<(double Server, double Driver)>());
        var peakBytes = order.ToDictionary(s => s, _ => 0L);
        for (int instance = 0; instance < settings.ClientsInstances; instance++)
        {
            await ManyClientsInstanceAsync(order, blocks, allocatedPerRoundTrip, cpuPerRoundTrip, peakBytes).ConfigureAwait(false);
        }

        foreach (SystemKind system in order)
        {
            figures[system].ClientsRoundTripsPerSecond = Statistics.Median(blocks[system].Select(b => b.PerSecond));
            figures[system].ClientsP99Microseconds = Statistics.Median(blocks[system].Select(b => b.P99));
            figures[system].ServerPeakBytes = peakBytes[system];
            figures[system].ServerBytesPerRoundTrip = Statistics.Median(allocatedPerRoundTrip[system]);
            figures[system].ServerCpuPerRoundTripMicroseconds = Statistics.Median(cpuPerRoundTrip[system].Select(c => c.Server));
            figures[system].DriverCpuPerRoundTripMicroseconds = Statistics.Median(cpuPerRoundTrip[system].Select(c => c.Driver));
            log.WriteLine($"  c) {system.DisplayName(),-8} {settings.Clients} clients {figures[system].ClientsRoundTripsPerSecond,10:N0} round trips/s  p99 {figures[system].ClientsP99Microseconds / 1000,6:N2} ms  (blocks: {string.Join(", ", blocks[system].Select(b => b.PerSecond.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)))})  server allocations {figures[system].ServerBytesPerRoundTrip:N0} B, CPU {figures[system].ServerCpuPerRoundTripMicroseconds:N1} µs (server) and {figures[system].DriverCpuPerRoundTripMicroseconds:N1} µs (clients) per round trip  d) server peak RSS {figures[system].ServerPeakBytes / 1048576.0,6:N1} MiB (the most of {settings.ClientsInstances} server(s))");
        }
    }

    /// <summary>c) One instance: fresh servers and clients, warmed up, then <see cref="LoadTestSettings.ClientsCycles"/> cycles.</summary>
    private async Task ManyClientsInstanceAsync(
        SystemKind[] order,
        Dictionary<SystemKind, List<(double PerSecond, double P99)>> blocks,
        Dictionary<SystemKind, List<double>> allocatedPerRoundTrip,
        Dictionary<SystemKind, List<(double Server, double Driver)>> cpuPerRoundTrip,
        Dictionary<SystemKind, long> peakBytes)
    {
        var servers = new Dictionary<SystemKind, ServerProcess>();
        var clients = new Dictionary<SystemKind, IBenchClient[]>();
        try
        {
            foreach (SystemKind system in order)
            {
                servers[system] = await ServerProcess.StartAsync(system, settings.ServerLifetime).ConfigureAwait(false);
                clients[system] = await ConnectManyAsync(system, servers[system].Port, "active", settings.Clients).ConfigureAwait(false);
            }

            foreach (SystemKind system in order)
            {
                // Tiered compilation of client and server, and the thread pool's size, settle here.
                await RoundTripsAsync(clients[system], settings.ClientsWarmup, settings.ClientsBlock).ConfigureAwait(false);
            }

            for (int cycle = 0; cycle < settings.ClientsCycles; cycle++)
            {
                foreach (SystemKind system in CycleOrder(cycle))
                {
                    long allocated = await servers[system].AllocatedBytesAsync().ConfigureAwait(false);
                    CpuSplit cpuBefore = CpuSplit.Take(servers, system);
                    (double perSecond, double p99) = await RoundTripsAsync(clients[system], settings.ClientsBlockWarmup, settings.ClientsBlock).ConfigureAwait(false);
                    CpuSplit cpu = CpuSplit.Take(servers, system) - cpuBefore;
                    allocated = await servers[system].AllocatedBytesAsync().ConfigureAwait(false) - allocated;
                    blocks[system].Add((perSecond, p99));
                    double roundTrips = perSecond * (settings.ClientsBlockWarmup + settings.ClientsBlock).TotalSeconds;
                    cpuPerRoundTrip[system].Add((cpu.Server.TotalMicroseconds / roundTrips, cpu.Driver.TotalMicroseconds / roundTrips));
                    results.ClientsOtherServersCpuMilliseconds.Add(cpu.OtherServers.TotalMilliseconds);

                    // Over the block's uncounted start too, at the counted rate: about.
                    allocatedPerRoundTrip[system].Add(allocated / (perSecond * (settings.ClientsBlockWarmup + settings.ClientsBlock).TotalSeconds));
                }

                (double wevis, double raw, double signalR) = (blocks[SystemKind.Wevis][^1].PerSecond, blocks[SystemKind.Raw][^1].PerSecond, blocks[SystemKind.SignalR][^1].PerSecond);
                results.ClientsWevisOverRaw.Add(wevis / raw);
                results.ClientsWevisOverSignalR.Add(wevis / signalR);
                results.ClientsRawOverSignalR.Add(raw / signalR);
                results.ClientsP99WevisOverRaw.Add(blocks[SystemKind.Wevis][^1].P99 / blocks[SystemKind.Raw][^1].P99);
                ((double Server, double Driver) wevisCpu, (double Server, double Driver) rawCpu) = (cpuPerRoundTrip[SystemKind.Wevis][^1], cpuPerRoundTrip[SystemKind.Raw][^1]);
                results.ClientsCpuWevisOverRaw.Add((wevisCpu.Server + wevisCpu.Driver) / (rawCpu.Server + rawCpu.Driver));
            }

            foreach (SystemKind system in order)
            {
                peakBytes[system] = Math.Max(peakBytes[system], servers[system].PeakResidentBytes);
            }
        }
        finally
        {
            foreach (IBenchClient[] connected in clients.Values)
            {
                await Task.WhenAll(connected.Select(c => c.DisposeAsync().AsTask())).WaitAsync(Bound).ConfigureAwait(false);
            }

            foreach (ServerProcess server in servers.Values)
            {
                await server.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// f) A fresh server per system (the floor, Wevis, SignalR), all running, each with a room of
    /// <paramref name="clients"/>; per window, cycles of one block per system, whose order rotates per cycle.
    /// </summary>
    private async Task FanOutAsync(int clients)
    {
        var servers = new Dictionary<SystemKind, ServerProcess>();
        var rooms = new Dictionary<SystemKind, FanOutRoom>();
        try
        {
            foreach (SystemKind system in FanOutSystems)
            {
                if (!Fits("f)", system, clients))
                {
                    continue;
                }

                servers[system] = await ServerProcess.StartAsync(system, settings.ServerLifetime).ConfigureAwait(false);
                rooms[system] = await JoinFanOutRoomAsync(servers[system], clients).ConfigureAwait(false);
            }

            SystemKind[] systems = [.. rooms.Keys];
            foreach (int window in settings.FanOutWindows)
            {
                foreach (SystemKind system in systems)
                {
                    // Tiered compilation, and the thread pool's size for this window, settle here.
                    await rooms[system].RunAsync(window, settings.FanOutWarmup, settings.FanOutBlockWarmup, servers[system]).ConfigureAwait(false);
                }

                var blocks = systems.ToDictionary(s => s, _ => new List<FanOutFigures>());
                for (int cycle = 0; cycle < settings.FanOutCycles; cycle++)
                {
                    SystemKind[] cycleOrder = [.. systems.Skip(cycle % systems.Length), .. systems.Take(cycle % systems.Length)];
                    foreach (SystemKind system in cycleOrder)
                    {
                        FanOutFigures figures = await rooms[system].RunAsync(window, settings.FanOutBlockWarmup, settings.FanOutBlock, servers[system]).ConfigureAwait(false);
                        blocks[system].Add(figures);
                        results.AddFanOut(system, clients, window, figures);
                    }

                    if (blocks.ContainsKey(SystemKind.Wevis) && blocks.ContainsKey(SystemKind.Raw) && blocks.ContainsKey(SystemKind.SignalR))
                    {
                        (double wevis, double raw, double signalR) = (blocks[SystemKind.Wevis][^1].DeliveriesPerSecond, blocks[SystemKind.Raw][^1].DeliveriesPerSecond, blocks[SystemKind.SignalR][^1].DeliveriesPerSecond);
                        results.AddFanOutPair(clients, window, new FanOutPair(wevis / raw, wevis / signalR, raw / signalR));
                    }
                }

                foreach (SystemKind system in systems)
                {
                    LatencySamples pooled = results.FanOutLatency(system, clients, window);
                    log.WriteLine($"  f) {system.DisplayName(),-8} {clients,5} clients, {window,2} in flight: {Statistics.Median(blocks[system].Select(f => f.DeliveriesPerSecond)),12:N0} deliveries/s (this round's blocks: {string.Join(", ", blocks[system].Select(r => r.DeliveriesPerSecond.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)))})  send-to-last-receipt, all rounds so far: p50 {pooled.PercentileMicroseconds(50) / 1000,7:N2} ms  p99 {pooled.PercentileMicroseconds(99) / 1000,7:N2} ms; server CPU {Statistics.Median(blocks[system].Select(f => f.ServerMicrosecondsPerDelivery)):N2} µs, clients' CPU {Statistics.Median(blocks[system].Select(f => f.ClientsMicrosecondsPerDelivery)):N2} µs per delivery");
                }
            }
        }
        finally
        {
            foreach (FanOutRoom room in rooms.Values)
            {
                await room.DisposeAsync().ConfigureAwait(false);
            }

            foreach (ServerProcess server in servers.Values)
            {
                await server.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>c)'s cycles: the floor and Wevis back to back, which first alternating, then SignalR's and gRPC's.</summary>
    private static SystemKind[] CycleOrder(int cycle) => cycle % 2 == 0
        ? [SystemKind.Raw, SystemKind.Wevis, SystemKind.SignalR, SystemKind.Grpc]
        : [SystemKind.Wevis, SystemKind.Raw, SystemKind.Grpc, SystemKind.SignalR];

    private async Task<FanOutRoom> JoinFanOutRoomAsync(ServerProcess server, int clients)
    {
        IBenchClient[] connected = await ConnectManyAsync(server.System, server.Port, "fan", clients).ConfigureAwait(false);
        // Joined before listening: a raw or Wevis client that listens takes every frame for a shout, the join's reply too.
        await Task.WhenAll(connected.Select(c => c.JoinFanOutAsync())).WaitAsync(Bound).ConfigureAwait(false);
        return new FanOutRoom(connected);
    }

    /// <summary>f) One system's room: its clients, and the run their receipts count for.</summary>
    private sealed class FanOutRoom : IAsyncDisposable
    {
        private readonly IBenchClient[] _clients;
        private FanOutRun? _current;

        public FanOutRoom(IBenchClient[] clients)
        {
            _clients = clients;
            foreach (IBenchClient client in clients)
            {
                client.ListenForHeard(seq => Volatile.Read(ref _current)?.Heard(seq));
            }
        }

        /// <summary>One block: the first client sends with <paramref name="window"/> in flight; everyone receives.</summary>
        public Task<FanOutFigures> RunAsync(int window, TimeSpan warmup, TimeSpan measure, IServerMeter server)
        {
            var run = new FanOutRun(_clients.Length, window);
            Volatile.Write(ref _current, run);
            return run.RunAsync(_clients[0], warmup, measure, server);
        }

        public async ValueTask DisposeAsync() =>
            await Task.WhenAll(_clients.Select(c => c.DisposeAsync().AsTask())).WaitAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
    }

    /// <summary>CPU time so far of one system's server, of the driver, and of every other system's server together.</summary>
    private readonly record struct CpuSplit(TimeSpan Server, TimeSpan Driver, TimeSpan OtherServers)
    {
        public static CpuSplit Take(Dictionary<SystemKind, ServerProcess> servers, SystemKind system)
        {
            TimeSpan others = TimeSpan.Zero;
            foreach ((SystemKind kind, ServerProcess server) in servers)
            {
                if (kind != system)
                {
                    others += server.ProcessorTime;
                }
            }

            return new CpuSplit(servers[system].ProcessorTime, System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime, others);
        }

        public static CpuSplit operator -(CpuSplit after, CpuSplit before) =>
            new(after.Server - before.Server, after.Driver - before.Driver, after.OtherServers - before.OtherServers);
    }
}
