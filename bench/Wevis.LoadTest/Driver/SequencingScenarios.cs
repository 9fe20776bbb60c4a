using System.Diagnostics;
using System.Globalization;
using System.Text;
using Example;
using Wevis.LoadTest.Clients;
using Wevis.LoadTest.Servers;
using Wevis.Tests.Shared;

namespace Wevis.LoadTest.Driver;

/// <summary>
/// Issue 15's figures: a), b) and c) with sequenced delivery (resumable sessions) on against off, in one run against
/// the same Wevis server process (clients choose; the server offers), and the resume time: a resumable client behind
/// a fault proxy sends a request just as its connection is reset; the time from the reset to the reply (the request
/// replayed and handled, after reconnecting and resuming). Run: <c>dotnet run -c Release --project bench/Wevis.LoadTest -- resume [--quick]</c>.
/// </summary>
internal sealed class SequencingScenarios(LoadTestSettings settings, TextWriter log)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    public async Task<string> RunAsync()
    {
        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"# Sequenced delivery and resume ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC{(settings.Quick ? ", quick: figures not meaningful" : string.Empty)})");
        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"{Environment.ProcessorCount} cores; one Wevis server process; clients with `ClientOptions.ResumeSessions` off and on, interleaved. Ratios are on/off.");
        report.AppendLine();
        await using ServerProcess server = await ServerProcess.StartAsync(SystemKind.Wevis, settings.ServerLifetime).ConfigureAwait(false);

        // a) Alternating blocks of round trips, one client each; the ratio of each pair of blocks' p50.
        var ratios = new List<double>();
        LatencySamples allOff = new(settings.LatencyCycles * settings.BlockSize), allOn = new(settings.LatencyCycles * settings.BlockSize);
        await using (WevisBenchClient off = await ConnectAsync(server.Port, "rtt-off", resumable: false).ConfigureAwait(false))
        await using (WevisBenchClient on = await ConnectAsync(server.Port, "rtt-on", resumable: true).ConfigureAwait(false))
        {
            await WarmAsync(off).ConfigureAwait(false);
            await WarmAsync(on).ConfigureAwait(false);
            int cycles = settings.LatencyCycles * settings.Rounds;
            for (int cycle = 0; cycle < cycles; cycle++)
            {
                WevisBenchClient[] order = cycle % 2 == 0 ? [off, on] : [on, off];
                var p50 = new Dictionary<WevisBenchClient, double>();
                foreach (WevisBenchClient client in order)
                {
                    p50[client] = await ClientLoops.BlockAsync(client, settings.BlockSize, client == on ? allOn : allOff).ConfigureAwait(false);
                }

                ratios.Add(p50[on] / p50[off]);
            }
        }

        ratios.Sort();
        double rttRatio = ratios[ratios.Count / 2];
        log.WriteLine($"a) RTT p50 off {allOff.PercentileMicroseconds(50):N1} µs, on {allOn.PercentileMicroseconds(50):N1} µs; median block ratio {rttRatio:N3}");

        // b) and c): off, on, off, on… (rounds), each measured alone; the ratio of the medians.
        var pipelined = new Dictionary<bool, List<double>> { [false] = [], [true] = [] };
        var clients = new Dictionary<bool, List<double>> { [false] = [], [true] = [] };
        for (int round = 0; round < settings.Rounds; round++)
        {
            foreach (bool resumable in round % 2 == 0 ? new[] { false, true } : [true, false])
            {
                pipelined[resumable].Add(await PipelinedAsync(server.Port, resumable).ConfigureAwait(false));
                clients[resumable].Add(await ManyClientsAsync(server.Port, resumable).ConfigureAwait(false));
                log.WriteLine($"  round {round + 1} sequencing {(resumable ? "on " : "off")}: b) {pipelined[resumable][^1],10:N0} replies/s  c) {clients[resumable][^1],10:N0} round trips/s");
            }
        }

        double pipeRatio = Median(pipelined[true]) / Median(pipelined[false]);
        double clientsRatio = Median(clients[true]) / Median(clients[false]);

        // The resume time.
        LatencySamples resumes = await ResumeTimesAsync(server.Port).ConfigureAwait(false);

        report.AppendLine("| Scenario | Off | On | On / off | Target |");
        report.AppendLine("|---|---|---|---|---|");
        report.AppendLine(CultureInfo.InvariantCulture, $"| a) RTT p50 (µs; ratio: median of {ratios.Count} paired blocks) | {allOff.PercentileMicroseconds(50):N1} | {allOn.PercentileMicroseconds(50):N1} | {rttRatio:N3} | ≤ 1.05 |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| b) pipelined, window {settings.PipelineWindow} (replies/s, median of {settings.Rounds}) | {Median(pipelined[false]):N0} | {Median(pipelined[true]):N0} | {pipeRatio:N3} | ≥ 0.95 |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| c) {settings.Clients} clients (round trips/s, median of {settings.Rounds}) | {Median(clients[false]):N0} | {Median(clients[true]):N0} | {clientsRatio:N3} | ≥ 0.95 |");
        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"Resume time, connection reset → the request sent at the reset answered (reconnect, resume, replay, handling; `ReconnectDelay` 1 ms), {resumes.Count} resumes: p50 {resumes.PercentileMicroseconds(50) / 1000:N2} ms, p99 {resumes.PercentileMicroseconds(99) / 1000:N2} ms.");
        log.WriteLine($"b) ratio {pipeRatio:N3}  c) ratio {clientsRatio:N3}  resume p50 {resumes.PercentileMicroseconds(50) / 1000:N2} ms p99 {resumes.PercentileMicroseconds(99) / 1000:N2} ms");
        return report.ToString();
    }

    private static double Median(List<double> values)
    {
        List<double> sorted = [.. values.Order()];
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static Task<WevisBenchClient> ConnectAsync(int port, string name, bool resumable) =>
        WevisBenchClient.ConnectAsync(port, name, new ClientOptions { ResumeSessions = resumable, ReconnectDelay = TimeSpan.FromMilliseconds(1) }).WaitAsync(Bound);

    private async Task WarmAsync(WevisBenchClient client)
    {
        long until = Stopwatch.GetTimestamp() + (long)(settings.LatencyWarmup.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < until)
        {
            await client.RoundTripAsync().ConfigureAwait(false);
        }
    }

    private async Task<double> PipelinedAsync(int port, bool resumable)
    {
        await using WevisBenchClient client = await ConnectAsync(port, resumable ? "pipe-on" : "pipe-off", resumable).ConfigureAwait(false);
        return await PipelineMeasurement.RepliesPerSecondAsync(client, settings).ConfigureAwait(false);
    }

    private async Task<double> ManyClientsAsync(int port, bool resumable)
    {
        WevisBenchClient[] connected = await Task.WhenAll(Enumerable.Range(0, settings.Clients)
            .Select(i => ConnectAsync(port, $"{(resumable ? "on" : "off")}{i}", resumable))).WaitAsync(TimeSpan.FromSeconds(120)).ConfigureAwait(false);
        try
        {
            int phase = 0;
            long[] counts = new long[connected.Length];
            Task[] running = [.. connected.Select((client, i) => Task.Run(async () =>
            {
                while (Volatile.Read(ref phase) != 2)
                {
                    await client.RoundTripAsync().ConfigureAwait(false);
                    if (Volatile.Read(ref phase) == 1)
                    {
                        counts[i]++;
                    }
                }
            }))];
            await Task.Delay(settings.ClientsWarmup).ConfigureAwait(false);
            Volatile.Write(ref phase, 1);
            long start = Stopwatch.GetTimestamp();
            await Task.Delay(settings.ClientsMeasure).ConfigureAwait(false);
            Volatile.Write(ref phase, 2);
            TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
            await Task.WhenAll(running).WaitAsync(Bound).ConfigureAwait(false);
            return counts.Sum() / elapsed.TotalSeconds;
        }
        finally
        {
            await Task.WhenAll(connected.Select(c => c.DisposeAsync().AsTask())).WaitAsync(Bound).ConfigureAwait(false);
        }
    }

    /// <summary>Resets a resumable client's connection many times, each time sending a request at once; the time to its reply.</summary>
    private async Task<LatencySamples> ResumeTimesAsync(int serverPort)
    {
        int count = settings.Quick ? 20 : 300;
        var samples = new LatencySamples(count);
        await using var proxy = new FaultProxy(serverPort);
        await using WevisBenchClient bench = await ConnectAsync(proxy.Port, "resume", resumable: true).ConfigureAwait(false);
        Client client = bench.Client;
        await WarmAsync(bench).ConfigureAwait(false);
        for (int i = 0; i < count; i++)
        {
            var resumed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            EventHandler<SessionResumeEventArgs> onResumed = (_, _) => resumed.TrySetResult();
            client.Resumed += onResumed;
            long start = Stopwatch.GetTimestamp();
            proxy.BreakAll(FaultKind.Reset);
            client.Send(new WhatTimeIsIt());
            if (await client.ReceiveAsync().AsTask().WaitAsync(Bound).ConfigureAwait(false) is not ItIs)
            {
                throw new InvalidDataException("Expected ItIs.");
            }

            samples.Add(Stopwatch.GetTimestamp() - start);

            // The reply may have come before the reset reached the client: wait for the resume before the next.
            await resumed.Task.WaitAsync(Bound).ConfigureAwait(false);
            client.Resumed -= onResumed;
            await bench.RoundTripAsync().ConfigureAwait(false);
        }

        return samples;
    }
}
