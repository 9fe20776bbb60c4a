using System.Diagnostics;
using Wevis.LoadTest.Clients;
using Wevis.LoadTest.Servers;

namespace Wevis.LoadTest.Driver;

/// <summary>The scenarios of issue 5, each over 127.0.0.1 against servers in their own processes.</summary>
internal sealed partial class Scenarios(LoadTestSettings settings, RunResults results, TextWriter log)
{
    private static readonly SystemKind[] AllSystems = [SystemKind.Raw, SystemKind.Wevis, SystemKind.SignalR, SystemKind.Grpc];

    /// <summary>f) is run with the floor, Wevis and SignalR (a hub group); gRPC has no groups.</summary>
    private static readonly SystemKind[] FanOutSystems = [SystemKind.Raw, SystemKind.Wevis, SystemKind.SignalR];
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    /// <summary>Runs every round, then the idle-clients scenario.</summary>
    public async Task RunAsync()
    {
        FileDescriptors descriptors = FileDescriptors.Read();
        results.Descriptors = descriptors;
        log.WriteLine($"File descriptors: {descriptors.Describe()}.");
        for (int round = 0; round < settings.Rounds; round++)
        {
            // The order of the systems rotates per round, so none always goes first or last.
            SystemKind[] order = [.. AllSystems.Skip(round % AllSystems.Length), .. AllSystems.Take(round % AllSystems.Length)];
            log.WriteLine($"round {round + 1}/{settings.Rounds}: order {string.Join(", ", order.Select(s => s.DisplayName()))}");
            Dictionary<SystemKind, SystemRound> figures = order.ToDictionary(s => s, results.NewRound);
            if (settings.Runs('a') || settings.Runs('b'))
            {
                await LatencyAndPipelineAsync(order, figures).ConfigureAwait(false);
            }

            if (settings.Runs('c') || settings.Runs('d'))
            {
                await ManyClientsAsync(order, figures).ConfigureAwait(false);
            }

            if (settings.Runs('f'))
            {
                foreach (int clients in settings.FanOutClients)
                {
                    await FanOutAsync(clients).ConfigureAwait(false);
                }
            }

            if (settings.Runs('g'))
            {
                // The floor's groups before Wevis's rooms in every other round.
                if (round % 2 == 1)
                {
                    await RawGroupsAsync().ConfigureAwait(false);
                }

                await ManyRoomsAsync(singleRoomFirst: round % 2 == 0).ConfigureAwait(false);
                if (round % 2 == 0)
                {
                    await RawGroupsAsync().ConfigureAwait(false);
                }
            }
        }

        if (settings.Runs('e'))
        {
            await IdleClientsAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Whether <paramref name="clients"/> more connections of <paramref name="system"/> fit under this process's
    /// open-file limit (the server's is the same); if not, says so and the scenario is skipped.
    /// </summary>
    private bool Fits(string scenario, SystemKind system, int clients)
    {
        int perClient = system == SystemKind.SignalR ? 2 : 1;
        int allowed = FileDescriptors.Read().ClientsAllowed(perClient);
        if (clients <= allowed)
        {
            return true;
        }

        string note = $"{scenario} with {clients:N0} {system.DisplayName()} clients skipped: the open-file limit allows about {allowed:N0} more connections in this process.";
        log.WriteLine(note);
        if (!results.Notes.Contains(note))
        {
            results.Notes.Add(note);
        }

        return false;
    }

    /// <summary>f) against a running server (for profiling): each of the settings' windows in turn, on the same connections.</summary>
    public async Task FanOutAsync(ServerProcess server, int clients)
    {
        await using FanOutRoom room = await JoinFanOutRoomAsync(server, clients).ConfigureAwait(false);
        foreach (int window in settings.FanOutWindows)
        {
            FanOutFigures figures = await room.RunAsync(window, settings.FanOutWarmup, settings.FanOutMeasure, server).ConfigureAwait(false);
            log.WriteLine($"  f) {server.System.DisplayName(),-8} {clients,5} clients, {window,2} in flight: {figures.DeliveriesPerSecond,12:N0} deliveries/s  send-to-last-receipt p50 {figures.P50Microseconds / 1000,7:N2} ms  p99 {figures.P99Microseconds / 1000,7:N2} ms  server CPU {figures.ServerMicrosecondsPerDelivery:N2} µs and {figures.ServerBytesPerDelivery:N0} B allocated, clients' CPU {figures.ClientsMicrosecondsPerDelivery:N2} µs per delivery");
        }
    }

    /// <summary>
    /// g) Wevis: a fresh server and 4 × <see cref="LoadTestSettings.RoomsOfFour"/> clients. Strict request/response with
    /// all of them in one room (the entry room: c) with as many clients), and with them in rooms of four (joined by
    /// join-or-create), then in those rooms each client's shout coming back to it through its room's broadcast (a round
    /// trip that delivers to all four). Which of one room and many goes first alternates per round.
    /// </summary>
    private async Task ManyRoomsAsync(bool singleRoomFirst)
    {
        int count = settings.RoomsOfFour * WevisBenchServer.QuadCapacity;
        if (!Fits("g)", SystemKind.Wevis, count))
        {
            return;
        }

        await using ServerProcess server = await ServerProcess.StartAsync(SystemKind.Wevis, settings.ServerLifetime).ConfigureAwait(false);
        IBenchClient[] connected = await ConnectManyAsync(SystemKind.Wevis, server.Port, "quad", count).ConfigureAwait(false);
        WevisBenchClient[] clients = [.. connected.Cast<WevisBenchClient>()];
        try
        {
            (double PerSecond, double P99) single = default;
            if (singleRoomFirst)
            {
                single = await RoundTripsAsync(connected).ConfigureAwait(false);
            }

            int rooms = await JoinRoomsOfFourAsync(clients).ConfigureAwait(false);
            (double PerSecond, double P99) many = await RoundTripsAsync(connected).ConfigureAwait(false);
            if (!singleRoomFirst)
            {
                await ForEachAsync(clients, c => c.LeaveRoomAsync()).ConfigureAwait(false);
                single = await RoundTripsAsync(connected).ConfigureAwait(false);
                await JoinRoomsOfFourAsync(clients).ConfigureAwait(false);
            }

            (double PerSecond, double P99, double Deliveries) broadcast = await BroadcastRoundTripsAsync(clients).ConfigureAwait(false);
            var figures = new ManyRoomsFigures(rooms, count, single.PerSecond, single.P99, many.PerSecond, many.P99, broadcast.PerSecond, broadcast.P99, broadcast.Deliveries);
            results.ManyRooms.Add(figures);
            log.WriteLine($"  g) Wevis {count:N0} clients: one room {single.PerSecond,9:N0} round trips/s (p99 {single.P99 / 1000:N2} ms); {rooms:N0} rooms of 4 {many.PerSecond,9:N0} (p99 {many.P99 / 1000:N2} ms, {many.PerSecond / single.PerSecond:0.00}×); broadcast in them {broadcast.PerSecond,9:N0} round trips/s (p99 {broadcast.P99 / 1000:N2} ms, {broadcast.Deliveries:N0} deliveries/s)");
        }
        finally
        {
            await Task.WhenAll(connected.Select(c => c.DisposeAsync().AsTask())).WaitAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// g) The floor for the same: a fresh raw server and as many connections, in strict request/response (what rooms
    /// cannot change for it), then grouped by fours in the order the server accepted them, each shouting its number
    /// and waiting for it to come back through its group (the server writes a read's shouts to the group's four).
    /// </summary>
    private async Task RawGroupsAsync()
    {
        int count = settings.RoomsOfFour * WevisBenchServer.QuadCapacity;
        if (!Fits("g)", SystemKind.Raw, count))
        {
            return;
        }

        await using ServerProcess server = await ServerProcess.StartAsync(SystemKind.Raw, settings.ServerLifetime, groupSize: WevisBenchServer.QuadCapacity).ConfigureAwait(false);
        IBenchClient[] clients = await ConnectManyAsync(SystemKind.Raw, server.Port, "quad", count).ConfigureAwait(false);
        try
        {
            (double PerSecond, double P99) requests = await RoundTripsAsync(clients).ConfigureAwait(false);
            (double PerSecond, double P99, double Deliveries) broadcast = await BroadcastRoundTripsAsync(clients).ConfigureAwait(false);
            results.RawGroups.Add(new RawGroupsFigures(count, requests.PerSecond, requests.P99, broadcast.PerSecond, broadcast.P99, broadcast.Deliveries));
            log.WriteLine($"  g) raw TCP {count:N0} clients: request/response {requests.PerSecond,9:N0} round trips/s (p99 {requests.P99 / 1000:N2} ms); broadcast in groups of 4 {broadcast.PerSecond,9:N0} round trips/s (p99 {broadcast.P99 / 1000:N2} ms, {broadcast.Deliveries:N0} deliveries/s)");
        }
        finally
        {
            await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask())).WaitAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// g)'s broadcast alone against a running server (for profiling): <paramref name="count"/> clients in rooms (Wevis:
    /// join-or-create rooms of four; raw: a server started with groups of four), each shouting its number and waiting
    /// for it to come back; returns round trips/s, their p99 and deliveries/s. <paramref name="measuring"/> hears when
    /// the measured part starts (true) and ends (false).
    /// </summary>
    public async Task<(double PerSecond, double P99, double Deliveries)> BroadcastInRoomsAsync(ServerProcess server, int count, Action<bool>? measuring = null)
    {
        IBenchClient[] clients = await ConnectManyAsync(server.System, server.Port, "quad", count).ConfigureAwait(false);
        try
        {
            if (server.System == SystemKind.Wevis)
            {
                await JoinRoomsOfFourAsync([.. clients.Cast<WevisBenchClient>()]).ConfigureAwait(false);
            }

            return await BroadcastRoundTripsAsync(clients, measuring).ConfigureAwait(false);
        }
        finally
        {
            await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask())).WaitAsync(Bound).ConfigureAwait(false);
        }
    }

    /// <summary>g) Every client joins or creates a room of four; returns how many rooms they are in.</summary>
    private async Task<int> JoinRoomsOfFourAsync(WevisBenchClient[] clients)
    {
        await ForEachAsync(clients, c => c.JoinRoomOfFourAsync()).ConfigureAwait(false);
        return clients.Select(c => c.RoomId).Distinct().Count();
    }

    private async Task ForEachAsync(WevisBenchClient[] clients, Func<WevisBenchClient, Task> action)
    {
        using var gate = new SemaphoreSlim(settings.LoginConcurrency);
        await Task.WhenAll(clients.Select(async c =>
        {
            await gate.WaitAsync().ConfigureAwait(false);
            try
            {
                await action(c).ConfigureAwait(false);
            }
            finally
            {
                gate.Release();
            }
        })).WaitAsync(TimeSpan.FromSeconds(120)).ConfigureAwait(false);
    }

    /// <summary>g) Each client shouts its own number and waits for it to come back through its room's (or group's) broadcast.</summary>
    private async Task<(double PerSecond, double P99, double Deliveries)> BroadcastRoundTripsAsync(IBenchClient[] clients, Action<bool>? measuring = null)
    {
        SemaphoreSlim[] back = [.. clients.Select(_ => new SemaphoreSlim(0))];
        long deliveries = 0;
        for (int i = 0; i < clients.Length; i++)
        {
            int me = i;
            clients[i].ListenForHeard(seq =>
            {
                Interlocked.Increment(ref deliveries);
                if (seq == me)
                {
                    back[me].Release();
                }
            });
        }

        long atStart = 0;
        long atEnd = 0;
        (double perSecond, double p99, TimeSpan elapsed) = await ClientLoops.MeasureAsync(
            clients.Length,
            async i =>
            {
                await clients[i].ShoutAsync(i).ConfigureAwait(false);
                await back[i].WaitAsync().ConfigureAwait(false);
            },
            starts =>
            {
                if (starts)
                {
                    atStart = Interlocked.Read(ref deliveries);
                }
                else
                {
                    atEnd = Interlocked.Read(ref deliveries);
                }

                measuring?.Invoke(starts);
            },
            settings.ClientsWarmup,
            settings.ClientsMeasure).ConfigureAwait(false);
        return (perSecond, p99, (atEnd - atStart) / elapsed.TotalSeconds);
    }

    /// <summary>c) Each client in strict request/response; round trips per second and their p99.</summary>
    private Task<(double PerSecond, double P99)> RoundTripsAsync(IBenchClient[] clients) =>
        RoundTripsAsync(clients, settings.ClientsWarmup, settings.ClientsMeasure);

    private static async Task<(double PerSecond, double P99)> RoundTripsAsync(IBenchClient[] clients, TimeSpan warmup, TimeSpan measure)
    {
        (double perSecond, double p99, _) = await ClientLoops.MeasureAsync(clients.Length, i => clients[i].RoundTripAsync(), null, warmup, measure).ConfigureAwait(false);
        return (perSecond, p99);
    }

    /// <summary>a) and b): one server of each system, running side by side.</summary>
    private async Task LatencyAndPipelineAsync(SystemKind[] order, Dictionary<SystemKind, SystemRound> figures)
    {
        var servers = new Dictionary<SystemKind, ServerProcess>();
        try
        {
            foreach (SystemKind system in order)
            {
                servers[system] = await ServerProcess.StartAsync(system, settings.ServerLifetime).ConfigureAwait(false);
            }

            await LatencyAsync(order, servers, figures).ConfigureAwait(false);
            foreach (SystemKind system in order)
            {
                figures[system].PipelinedPerSecond = await PipelinedAsync(system, servers[system].Port).ConfigureAwait(false);
                log.WriteLine($"  b) {system.DisplayName(),-8} pipelined {figures[system].PipelinedPerSecond,12:N0} replies/s");
            }
        }
        finally
        {
            foreach (ServerProcess server in servers.Values)
            {
                await server.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// a) One client per system in strict request/response, in blocks: each cycle runs a raw block and a Wevis
    /// block back to back (which first alternates), then SignalR's and gRPC's.
    /// </summary>
    private async Task LatencyAsync(SystemKind[] order, Dictionary<SystemKind, ServerProcess> servers, Dictionary<SystemKind, SystemRound> figures)
    {
        var clients = new Dictionary<SystemKind, IBenchClient>();
        IBenchClient? wevisOnPool = null;
        try
        {
            foreach (SystemKind system in order)
            {
                // Wevis's a) client is set as a game's client would be, receiving on a thread of its own
                // (ClientOptions.DedicatedReceiveThread); the one with the default options is measured beside it.
                clients[system] = system == SystemKind.Wevis
                    ? await WevisBenchClient.ConnectAsync(servers[system].Port, "latency", new ClientOptions { DedicatedReceiveThread = true }).WaitAsync(Bound).ConfigureAwait(false)
                    : await BenchClients.ConnectAsync(system, servers[system].Port, "latency").WaitAsync(Bound).ConfigureAwait(false);
                await WarmAsync(clients[system]).ConfigureAwait(false);
                if (system == SystemKind.Wevis)
                {
                    wevisOnPool = await BenchClients.ConnectAsync(system, servers[system].Port, "latency-pool").WaitAsync(Bound).ConfigureAwait(false);
                    await WarmAsync(wevisOnPool).ConfigureAwait(false);
                }
            }

            for (int cycle = 0; cycle < settings.LatencyCycles; cycle++)
            {
                SystemKind[] cycleOrder = cycle % 2 == 0
                    ? [SystemKind.Raw, SystemKind.Wevis, SystemKind.SignalR, SystemKind.Grpc]
                    : [SystemKind.Wevis, SystemKind.Raw, SystemKind.Grpc, SystemKind.SignalR];
                var p50 = new Dictionary<SystemKind, double>();
                double wevisOnPoolP50 = 0;
                foreach (SystemKind system in cycleOrder)
                {
                    p50[system] = await ClientLoops.BlockAsync(clients[system], settings.BlockSize, figures[system].Latency).ConfigureAwait(false);
                    if (system == SystemKind.Wevis && wevisOnPool is not null)
                    {
                        wevisOnPoolP50 = await ClientLoops.BlockAsync(wevisOnPool, settings.BlockSize, figures[system].LatencyOnPool).ConfigureAwait(false);
                    }
                }

                results.WevisOnPoolOverRawBlockRatios.Add(wevisOnPoolP50 / p50[SystemKind.Raw]);
                results.WevisOnPoolOverSignalRBlockRatios.Add(wevisOnPoolP50 / p50[SystemKind.SignalR]);
                results.WevisOverRawBlockRatios.Add(p50[SystemKind.Wevis] / p50[SystemKind.Raw]);
                results.WevisOverSignalRBlockRatios.Add(p50[SystemKind.Wevis] / p50[SystemKind.SignalR]);
                results.RawOverSignalRBlockRatios.Add(p50[SystemKind.Raw] / p50[SystemKind.SignalR]);
            }

            foreach (SystemKind system in order)
            {
                LatencySamples all = figures[system].Latency;
                log.WriteLine($"  a) {system.DisplayName(),-8} p50 {all.PercentileMicroseconds(50),7:N1} µs  p99 {all.PercentileMicroseconds(99),8:N1} µs  p99.9 {all.PercentileMicroseconds(99.9),8:N1} µs");
                if (system == SystemKind.Wevis)
                {
                    LatencySamples onPool = figures[system].LatencyOnPool;
                    log.WriteLine($"  a) Wevis, default options (receiving on the thread pool): p50 {onPool.PercentileMicroseconds(50),7:N1} µs  p99 {onPool.PercentileMicroseconds(99),8:N1} µs");
                }
            }
        }
        finally
        {
            foreach (IBenchClient client in clients.Values)
            {
                await client.DisposeAsync().ConfigureAwait(false);
            }

            if (wevisOnPool is not null)
            {
                await wevisOnPool.DisposeAsync().ConfigureAwait(false);
            }
        }

        async Task WarmAsync(IBenchClient client)
        {
            long warmUntil = Stopwatch.GetTimestamp() + (long)(settings.LatencyWarmup.TotalSeconds * Stopwatch.Frequency);
            while (Stopwatch.GetTimestamp() < warmUntil)
            {
                await client.RoundTripAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>b) One client with up to the window of requests in flight: replies per second.</summary>
    private async Task<double> PipelinedAsync(SystemKind system, int port)
    {
        IBenchClient client = await BenchClients.ConnectAsync(system, port, "pipelined").WaitAsync(Bound).ConfigureAwait(false);
        try
        {
            return await PipelineMeasurement.RepliesPerSecondAsync(client, settings).ConfigureAwait(false);
        }
        finally
        {
            await client.DisposeAsync().ConfigureAwait(false);
        }
    }

    public async Task<(double PerSecond, double P99)> ActiveClientsAsync(SystemKind system, int port, string namePrefix)
    {
        IBenchClient[] clients = await ConnectManyAsync(system, port, namePrefix, settings.Clients).ConfigureAwait(false);
        try
        {
            return await RoundTripsAsync(clients).ConfigureAwait(false);
        }
        finally
        {
            await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask())).WaitAsync(Bound).ConfigureAwait(false);
        }
    }

    private async Task<IBenchClient[]> ConnectManyAsync(SystemKind system, int port, string namePrefix, int count)
    {
        using var gate = new SemaphoreSlim(settings.LoginConcurrency);
        Task<IBenchClient>[] connecting = [.. Enumerable.Range(0, count).Select(async i =>
        {
            await gate.WaitAsync().ConfigureAwait(false);
            try
            {
                return await BenchClients.ConnectAsync(system, port, $"{namePrefix}{i}").ConfigureAwait(false);
            }
            finally
            {
                gate.Release();
            }
        })];
        return await Task.WhenAll(connecting).WaitAsync(TimeSpan.FromSeconds(120)).ConfigureAwait(false);
    }

    /// <summary>
    /// e) Wevis alone, on one fresh server: c) without idle clients (as many times as there are rounds), then many
    /// idle clients log in (the time that takes, the server's memory per idle connection), then c) among them (as many
    /// times again): like with like, on the same server process.
    /// </summary>
    private async Task IdleClientsAsync()
    {
        int count = settings.IdleClients;
        int allowed = FileDescriptors.Read().ClientsAllowed() - settings.Clients;
        if (count > allowed)
        {
            string note = $"e) was asked for {count:N0} idle clients, but the open-file limit ({results.Descriptors?.SoftLimit:N0} per process) leaves room for {allowed:N0} beside c)'s {settings.Clients} active ones: e) ran with {allowed:N0}.";
            log.WriteLine(note);
            results.Notes.Add(note);
            count = Math.Max(0, allowed);
        }

        IBenchClient[] idle = [];
        await using ServerProcess server = await ServerProcess.StartAsync(SystemKind.Wevis, settings.ServerLifetime).ConfigureAwait(false);
        try
        {
            // Warm the server (code paths, pools) with one client.
            await using (IBenchClient warm = await BenchClients.ConnectAsync(SystemKind.Wevis, server.Port, "warm").ConfigureAwait(false))
            {
                await warm.RoundTripAsync().ConfigureAwait(false);
            }

            var without = new List<(double PerSecond, double P99)>();
            for (int i = 0; i < settings.Rounds; i++)
            {
                without.Add(await ActiveClientsAsync(SystemKind.Wevis, server.Port, "active").ConfigureAwait(false));
            }

            log.WriteLine($"e) c) without idle clients, same server, {without.Count} run(s): median {Statistics.Median(without.Select(w => w.PerSecond)):N0} round trips/s, p99 {Statistics.Median(without.Select(w => w.P99)) / 1000:N2} ms");

            ManagedHeap heapBefore = await server.CollectGarbageAsync().ConfigureAwait(false);
            long before = server.ResidentBytes;

            long start = Stopwatch.GetTimestamp();
            idle = await ConnectManyAsync(SystemKind.Wevis, server.Port, "idle", count).ConfigureAwait(false);
            TimeSpan loginTime = Stopwatch.GetElapsedTime(start);
            long afterLogin = server.ResidentBytes;
            ManagedHeap heapAfter = await server.CollectGarbageAsync().ConfigureAwait(false);
            long afterCollect = server.ResidentBytes;
            log.WriteLine($"e) {count:N0} idle Wevis clients logged in in {loginTime.TotalSeconds:N2} s; server RSS {before / 1048576.0:N1} → {afterLogin / 1048576.0:N1} MiB ({afterCollect / 1048576.0:N1} MiB after a compacting collection); live managed heap {heapBefore.LiveBytes / 1048576.0:N1} → {heapAfter.LiveBytes / 1048576.0:N1} MiB");

            var among = new List<(double PerSecond, double P99)>();
            for (int i = 0; i < settings.Rounds; i++)
            {
                among.Add(await ActiveClientsAsync(SystemKind.Wevis, server.Port, "active").ConfigureAwait(false));
            }

            log.WriteLine($"e) c) among them, {among.Count} run(s): median {Statistics.Median(among.Select(w => w.PerSecond)):N0} round trips/s, p99 {Statistics.Median(among.Select(w => w.P99)) / 1000:N2} ms");
            results.Idle = new IdleResults(
                count,
                loginTime,
                before,
                afterLogin,
                afterCollect,
                heapBefore,
                heapAfter,
                Statistics.Median(without.Select(w => w.PerSecond)),
                Statistics.Median(without.Select(w => w.P99)),
                Statistics.Median(among.Select(w => w.PerSecond)),
                Statistics.Median(among.Select(w => w.P99)),
                settings.Rounds,
                server.PeakResidentBytes);
        }
        finally
        {
            // Stop the server first: every idle client then sees its connection end and closes at once.
            await server.StopAsync(TimeSpan.FromSeconds(15)).ConfigureAwait(false);
            await Task.WhenAll(idle.Select(c => c.DisposeAsync().AsTask())).WaitAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        }
    }
}
