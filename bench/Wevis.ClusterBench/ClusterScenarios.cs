using System.Diagnostics;
using System.Runtime.CompilerServices;
using Wevis.LoadTest.Clients;
using Wevis.LoadTest.Driver;

namespace Wevis.ClusterBench;

/// <summary>
/// The load test's a), c) and f), each through every target in one run. Every scenario interleaves the targets (blocks
/// or rounds, in an order that rotates), so drift in the machine's load falls on all of them alike and the ratios are
/// paired: a target's figure over another's in the same cycle or round, then the median.
/// </summary>
internal sealed class ClusterScenarios(LoadTestSettings settings, Target[] targets, ClusterResults results, TextWriter log)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly ProcessMeter _meter = new();

    /// <summary>a) The load test runs its cycles in each of its rounds; here they run in one go.</summary>
    public int Cycles => settings.LatencyCycles * settings.Rounds;

    public async Task RunAsync()
    {
        if (settings.Runs('a'))
        {
            await LatencyAsync().ConfigureAwait(false);
        }

        if (settings.Runs('c'))
        {
            await ManyClientsAsync().ConfigureAwait(false);
        }

        if (settings.Runs('f'))
        {
            foreach (int clients in settings.FanOutClients)
            {
                await FanOutAsync(clients).ConfigureAwait(false);
            }
        }
    }

    /// <summary><paramref name="turn"/>'s order of the targets: rotated by one each turn.</summary>
    private Target[] Order(int turn) => [.. targets.Skip(turn % targets.Length), .. targets.Take(turn % targets.Length)];

    /// <summary>a) One client per target, strict request/response, in cycles (the load test's per round, times its rounds) of one block per target.</summary>
    private async Task LatencyAsync()
    {
        var clients = new Dictionary<char, WevisBenchClient>();
        try
        {
            foreach (Target target in targets)
            {
                WevisBenchClient client = (await target.ConnectRoomAsync(1, 1).ConfigureAwait(false))[0];
                clients[target.Letter] = client;
                results.Latency[target.Letter] = new LatencySamples(Cycles * settings.BlockSize);
                results.LatencyBlocks[target.Letter] = [];
                long warmUntil = Stopwatch.GetTimestamp() + (long)(settings.LatencyWarmup.TotalSeconds * Stopwatch.Frequency);
                while (Stopwatch.GetTimestamp() < warmUntil)
                {
                    await client.RoundTripAsync().AsTask().WaitAsync(Bound).ConfigureAwait(false);
                }
            }

            for (int cycle = 0; cycle < Cycles; cycle++)
            {
                foreach (Target target in Order(cycle))
                {
                    double p50 = await ClientLoops.BlockAsync(clients[target.Letter], settings.BlockSize, results.Latency[target.Letter]).ConfigureAwait(false);
                    results.LatencyBlocks[target.Letter].Add(p50);
                }
            }

            foreach (Target target in targets)
            {
                LatencySamples all = results.Latency[target.Letter];
                log.WriteLine($"a) {target.Name,-40} p50 {all.PercentileMicroseconds(50),8:N1} µs  p99 {all.PercentileMicroseconds(99),8:N1} µs");
            }
        }
        finally
        {
            await Target.DisposeAllAsync(clients.Values).ConfigureAwait(false);
        }
    }

    /// <summary>c) The settings' clients in each target's room, each in strict request/response for a fixed time, per round.</summary>
    private async Task ManyClientsAsync()
    {
        var rooms = new Dictionary<char, WevisBenchClient[]>();
        try
        {
            foreach (Target target in targets)
            {
                rooms[target.Letter] = await target.ConnectRoomAsync(settings.Clients, settings.LoginConcurrency).ConfigureAwait(false);
                results.Clients[target.Letter] = [];
            }

            for (int round = 0; round < settings.Rounds; round++)
            {
                foreach (Target target in Order(round))
                {
                    WevisBenchClient[] room = rooms[target.Letter];
                    TimeSpan cpuStart = TimeSpan.Zero;
                    TimeSpan cpuEnd = TimeSpan.Zero;
                    (double perSecond, double p99, TimeSpan elapsed) = await ClientLoops.MeasureAsync(
                        room.Length,
                        i => room[i].RoundTripAsync(),
                        measuring =>
                        {
                            if (measuring)
                            {
                                cpuStart = _meter.ProcessorTime;
                            }
                            else
                            {
                                cpuEnd = _meter.ProcessorTime;
                            }
                        },
                        settings.ClientsWarmup,
                        settings.ClientsMeasure).ConfigureAwait(false);
                    double cpu = (cpuEnd - cpuStart).TotalMicroseconds / (perSecond * elapsed.TotalSeconds);
                    results.Clients[target.Letter].Add(new ClientsRound(perSecond, p99, cpu));
                    log.WriteLine($"c) round {round + 1} {target.Name,-40} {perSecond,9:N0} round trips/s  p99 {p99 / 1000,6:N2} ms  CPU {cpu,6:N1} µs per round trip");
                }
            }
        }
        finally
        {
            await Target.DisposeAllAsync(rooms.Values.SelectMany(r => r)).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// f) A room of <paramref name="clients"/> per target, all connected at once (two descriptors per client in this
    /// process: its socket and the server's end); per round, each target in turn runs each window.
    /// </summary>
    private async Task FanOutAsync(int clients)
    {
        int allowed = FileDescriptors.Read().ClientsAllowed(perClient: 2);
        if (clients * targets.Length > allowed)
        {
            string note = $"f) with {clients:N0} clients skipped: {targets.Length} rooms of them need {clients * targets.Length * 2:N0} descriptors (client and server ends), and the open-file limit leaves room for about {allowed:N0} clients.";
            log.WriteLine(note);
            results.Notes.Add(note);
            return;
        }

        var rooms = new Dictionary<char, WevisBenchClient[]>();
        var current = new Dictionary<char, StrongBox<FanOutRun?>>();
        try
        {
            foreach (Target target in targets)
            {
                WevisBenchClient[] room = await target.ConnectRoomAsync(clients, settings.LoginConcurrency).ConfigureAwait(false);
                rooms[target.Letter] = room;
                var run = new StrongBox<FanOutRun?>();
                current[target.Letter] = run;
                foreach (WevisBenchClient client in room)
                {
                    client.ListenForHeard(seq => Volatile.Read(ref run.Value)!.Heard(seq));
                }
            }

            for (int round = 0; round < settings.Rounds; round++)
            {
                foreach (Target target in Order(round))
                {
                    foreach (int window in settings.FanOutWindows)
                    {
                        var run = new FanOutRun(clients, window);
                        Volatile.Write(ref current[target.Letter].Value, run);
                        FanOutFigures figures = await run.RunAsync(rooms[target.Letter][0], settings.FanOutWarmup, settings.FanOutMeasure, _meter).ConfigureAwait(false);
                        (int, int, char) key = (clients, window, target.Letter);
                        if (!results.FanOut.TryGetValue(key, out List<FanOutFigures>? list))
                        {
                            results.FanOut[key] = list = [];
                        }

                        list.Add(figures);
                        log.WriteLine($"f) round {round + 1} {target.Name,-40} {clients,5} clients, {window,2} in flight: {figures.DeliveriesPerSecond,10:N0} deliveries/s  p50 {figures.P50Microseconds / 1000,7:N2} ms  p99 {figures.P99Microseconds / 1000,7:N2} ms  CPU {figures.ServerMicrosecondsPerDelivery,5:N2} µs and {figures.ServerBytesPerDelivery,5:N0} B per delivery");
                    }
                }
            }
        }
        finally
        {
            await Target.DisposeAllAsync(rooms.Values.SelectMany(r => r)).ConfigureAwait(false);
        }
    }
}
