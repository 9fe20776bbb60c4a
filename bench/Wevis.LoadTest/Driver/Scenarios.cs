using System.Diagnostics;
using Wevis.LoadTest.Clients;
using Wevis.LoadTest.Servers;

namespace Wevis.LoadTest.Driver;

/// <summary>The scenarios of issue 5, each over 127.0.0.1 against servers in their own processes.</summary>
internal sealed class Scenarios(LoadTestSettings settings, RunResults results, TextWriter log)
{
    private static readonly SystemKind[] AllSystems = [SystemKind.Raw, SystemKind.Wevis, SystemKind.SignalR, SystemKind.Grpc];
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    /// <summary>Runs every round, then the idle-clients scenario.</summary>
    public async Task RunAsync()
    {
        for (int round = 0; round < settings.Rounds; round++)
        {
            // The order of the systems rotates per round, so none always goes first or last.
            SystemKind[] order = [.. AllSystems.Skip(round % AllSystems.Length), .. AllSystems.Take(round % AllSystems.Length)];
            log.WriteLine($"round {round + 1}/{settings.Rounds}: order {string.Join(", ", order.Select(s => s.DisplayName()))}");
            Dictionary<SystemKind, SystemRound> figures = order.ToDictionary(s => s, results.NewRound);
            await LatencyAndPipelineAsync(order, figures).ConfigureAwait(false);
            foreach (SystemKind system in order)
            {
                await ManyClientsAsync(system, figures[system]).ConfigureAwait(false);
            }
        }

        await IdleClientsAsync().ConfigureAwait(false);
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
        try
        {
            foreach (SystemKind system in order)
            {
                clients[system] = await BenchClients.ConnectAsync(system, servers[system].Port, "latency").WaitAsync(Bound).ConfigureAwait(false);
                long warmUntil = Stopwatch.GetTimestamp() + (long)(settings.LatencyWarmup.TotalSeconds * Stopwatch.Frequency);
                while (Stopwatch.GetTimestamp() < warmUntil)
                {
                    await clients[system].RoundTripAsync().ConfigureAwait(false);
                }
            }

            for (int cycle = 0; cycle < settings.LatencyCycles; cycle++)
            {
                SystemKind[] cycleOrder = cycle % 2 == 0
                    ? [SystemKind.Raw, SystemKind.Wevis, SystemKind.SignalR, SystemKind.Grpc]
                    : [SystemKind.Wevis, SystemKind.Raw, SystemKind.Grpc, SystemKind.SignalR];
                var p50 = new Dictionary<SystemKind, double>();
                foreach (SystemKind system in cycleOrder)
                {
                    var block = new LatencySamples(settings.BlockSize);
                    IBenchClient client = clients[system];
                    LatencySamples all = figures[system].Latency;
                    for (int i = 0; i < settings.BlockSize; i++)
                    {
                        long start = Stopwatch.GetTimestamp();
                        await client.RoundTripAsync().ConfigureAwait(false);
                        long elapsed = Stopwatch.GetTimestamp() - start;
                        block.Add(elapsed);
                        all.Add(elapsed);
                    }

                    p50[system] = block.PercentileMicroseconds(50);
                }

                results.WevisOverRawBlockRatios.Add(p50[SystemKind.Wevis] / p50[SystemKind.Raw]);
                results.WevisOverSignalRBlockRatios.Add(p50[SystemKind.Wevis] / p50[SystemKind.SignalR]);
            }

            foreach (SystemKind system in order)
            {
                LatencySamples all = figures[system].Latency;
                log.WriteLine($"  a) {system.DisplayName(),-8} p50 {all.PercentileMicroseconds(50),7:N1} µs  p99 {all.PercentileMicroseconds(99),8:N1} µs  p99.9 {all.PercentileMicroseconds(99.9),8:N1} µs");
            }
        }
        finally
        {
            foreach (IBenchClient client in clients.Values)
            {
                await client.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>b) One client with up to the window of requests in flight: replies per second.</summary>
    private async Task<double> PipelinedAsync(SystemKind system, int port)
    {
        IBenchClient client = await BenchClients.ConnectAsync(system, port, "pipelined").WaitAsync(Bound).ConfigureAwait(false);
        try
        {
            var replies = new ReplyCounter();
            using var stop = new CancellationTokenSource();
            Task running = client.PipelineAsync(settings.PipelineWindow, replies, stop.Token);
            await Task.Delay(settings.PipelineWarmup).ConfigureAwait(false);
            long startCount = replies.Value;
            long start = Stopwatch.GetTimestamp();
            await Task.Delay(settings.PipelineMeasure).ConfigureAwait(false);
            long endCount = replies.Value;
            TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
            stop.Cancel();
            if (running.IsFaulted)
            {
                await running.ConfigureAwait(false);
            }

            try
            {
                await running.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Some clients do not wait for their last replies; the connection is dropped below.
            }

            return (endCount - startCount) / elapsed.TotalSeconds;
        }
        finally
        {
            await client.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>c) and d): a fresh server; many clients each in strict request/response for a fixed time.</summary>
    private async Task ManyClientsAsync(SystemKind system, SystemRound figures)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(system, settings.ServerLifetime).ConfigureAwait(false);
        (double perSecond, double p99) = await ActiveClientsAsync(system, server.Port, "active").ConfigureAwait(false);
        figures.ClientsRoundTripsPerSecond = perSecond;
        figures.ClientsP99Microseconds = p99;
        figures.ServerPeakBytes = server.PeakResidentBytes;
        log.WriteLine($"  c) {system.DisplayName(),-8} {settings.Clients} clients {perSecond,10:N0} round trips/s  p99 {p99 / 1000,6:N2} ms  d) server peak RSS {figures.ServerPeakBytes / 1048576.0,6:N1} MiB");
    }

    public async Task<(double PerSecond, double P99)> ActiveClientsAsync(SystemKind system, int port, string namePrefix)
    {
        IBenchClient[] clients = await ConnectManyAsync(system, port, namePrefix, settings.Clients).ConfigureAwait(false);
        try
        {
            int phase = 0; // 0 warming up, 1 measuring, 2 stopping
            LatencySamples[] samples = [.. clients.Select(_ => new LatencySamples(8 * 1024))];
            Task[] running = [.. clients.Select((client, i) => Task.Run(async () =>
            {
                LatencySamples mine = samples[i];
                while (Volatile.Read(ref phase) != 2)
                {
                    long start = Stopwatch.GetTimestamp();
                    await client.RoundTripAsync().ConfigureAwait(false);
                    long elapsed = Stopwatch.GetTimestamp() - start;
                    if (Volatile.Read(ref phase) == 1)
                    {
                        mine.Add(elapsed);
                    }
                }
            }))];

            await Task.Delay(settings.ClientsWarmup).ConfigureAwait(false);
            Volatile.Write(ref phase, 1);
            long measureStart = Stopwatch.GetTimestamp();
            await Task.Delay(settings.ClientsMeasure).ConfigureAwait(false);
            Volatile.Write(ref phase, 2);
            TimeSpan elapsed = Stopwatch.GetElapsedTime(measureStart);
            await Task.WhenAll(running).WaitAsync(Bound).ConfigureAwait(false);
            LatencySamples all = LatencySamples.Merge(samples);
            return (all.Count / elapsed.TotalSeconds, all.PercentileMicroseconds(99));
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
    /// e) Wevis alone: many idle clients log in; the time that takes, the server's memory per idle connection,
    /// then c) among them.
    /// </summary>
    private async Task IdleClientsAsync()
    {
        int count = settings.IdleClients;
        IBenchClient[] idle = [];
        await using ServerProcess server = await ServerProcess.StartAsync(SystemKind.Wevis, settings.ServerLifetime).ConfigureAwait(false);
        try
        {
            // Warm the server (code paths, pools) with one client, then take the baseline.
            await using (IBenchClient warm = await BenchClients.ConnectAsync(SystemKind.Wevis, server.Port, "warm").ConfigureAwait(false))
            {
                await warm.RoundTripAsync().ConfigureAwait(false);
            }

            await server.CollectGarbageAsync().ConfigureAwait(false);
            long before = server.ResidentBytes;

            long start = Stopwatch.GetTimestamp();
            idle = await ConnectManyAsync(SystemKind.Wevis, server.Port, "idle", count).ConfigureAwait(false);
            TimeSpan loginTime = Stopwatch.GetElapsedTime(start);
            long afterLogin = server.ResidentBytes;
            await server.CollectGarbageAsync().ConfigureAwait(false);
            long afterCollect = server.ResidentBytes;
            log.WriteLine($"e) {count:N0} idle Wevis clients logged in in {loginTime.TotalSeconds:N2} s; server RSS {before / 1048576.0:N1} → {afterLogin / 1048576.0:N1} MiB ({afterCollect / 1048576.0:N1} MiB after a full collection)");

            (double perSecond, double p99) = await ActiveClientsAsync(SystemKind.Wevis, server.Port, "active").ConfigureAwait(false);
            log.WriteLine($"e) c) among them: {perSecond:N0} round trips/s, p99 {p99 / 1000:N2} ms");
            results.Idle = new IdleResults(count, loginTime, before, afterLogin, afterCollect, perSecond, p99, server.PeakResidentBytes);
        }
        finally
        {
            // Stop the server first: every idle client then sees its connection end and closes at once.
            await server.StopAsync(TimeSpan.FromSeconds(15)).ConfigureAwait(false);
            await Task.WhenAll(idle.Select(c => c.DisposeAsync().AsTask())).WaitAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        }
    }
}
