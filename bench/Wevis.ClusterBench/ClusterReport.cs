using System.Globalization;
using System.Text;
using Wevis.LoadTest.Driver;

namespace Wevis.ClusterBench;

/// <summary>The results file: each scenario's figures per target, with paired ratios to the single server and to the same node, and the cost per hop.</summary>
internal static class ClusterReport
{
    private const char Single = 's';
    private const char SameNode = 'g';
    private const char OtherNode = 'o';

    public static string Write(LoadTestSettings settings, Target[] targets, ClusterResults results, string header)
    {
        var report = new StringBuilder();
        report.AppendLine(Invariant($"# Cluster benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC{(settings.Quick ? " (--quick: figures not meaningful)" : "")}"));
        report.AppendLine();
        report.AppendLine(header);
        report.AppendLine();
        report.AppendLine("Targets: **single** the single-machine `Server` (the load test's `WevisBenchServer`, entry room); **same node** a room on the cluster node that is the clients' gateway; **other node** a room on the other node (every client connects to the first silo's gateway). The room is the load test's `TimeRoom` everywhere. \"÷ single\" and \"÷ same node\" are paired ratios: the target's figure over the other's in the same cycle (a) or round (c, f), then the median. CPU is this process's (clients, server, gateway and silos together), per round trip or delivery: the clients' share is the same for each target, so differences between targets are server-side costs.");
        foreach (string note in results.Notes)
        {
            report.AppendLine();
            report.AppendLine("Note: " + note);
        }

        if (results.LatencyBlocks.Count > 0)
        {
            report.AppendLine();
            report.AppendLine(Invariant($"## a) Round trip, one client ({settings.LatencyCycles * settings.Rounds} cycles of {settings.BlockSize} per target, after {settings.LatencyWarmup.TotalSeconds:0.#} s of warm-up each)"));
            report.AppendLine();
            report.AppendLine("| target | p50 µs | p99 µs | p99.9 µs | ÷ single (block p50s) | ÷ same node |");
            report.AppendLine("|---|---|---|---|---|---|");
            foreach (Target target in targets)
            {
                LatencySamples all = results.Latency[target.Letter];
                report.AppendLine(Invariant($"| {target.Name} | {all.PercentileMicroseconds(50):0.0} | {all.PercentileMicroseconds(99):0.0} | {all.PercentileMicroseconds(99.9):0.0} | {Ratio(results.LatencyBlocks, target.Letter, Single, b => b)} | {Ratio(results.LatencyBlocks, target.Letter, SameNode, b => b)} |"));
            }
        }

        if (results.Clients.Count > 0)
        {
            report.AppendLine();
            report.AppendLine(Invariant($"## c) {settings.Clients} clients in the room, each in strict request/response ({settings.Rounds} rounds of {settings.ClientsWarmup.TotalSeconds:0.#} s warm-up and {settings.ClientsMeasure.TotalSeconds:0.#} s measured per target; medians over rounds)"));
            report.AppendLine();
            report.AppendLine("| target | round trips/s | ÷ single | ÷ same node | p99 ms | p99 ÷ single | CPU µs per round trip |");
            report.AppendLine("|---|---|---|---|---|---|---|");
            foreach (Target target in targets)
            {
                List<ClientsRound> rounds = results.Clients[target.Letter];
                report.AppendLine(Invariant($"| {target.Name} | {Statistics.Median(rounds.Select(r => r.PerSecond)):N0} | {Ratio(results.Clients, target.Letter, Single, r => r.PerSecond)} | {Ratio(results.Clients, target.Letter, SameNode, r => r.PerSecond)} | {Statistics.Median(rounds.Select(r => r.P99Microseconds)) / 1000:0.00} | {Ratio(results.Clients, target.Letter, Single, r => r.P99Microseconds)} | {Statistics.Median(rounds.Select(r => r.CpuMicroseconds)):0.0} |"));
            }
        }

        if (results.FanOut.Count > 0)
        {
            report.AppendLine();
            report.AppendLine(Invariant($"## f) Fan-out: one room, one sender, every message to everyone ({settings.Rounds} rounds of {settings.FanOutWarmup.TotalSeconds:0.#} s warm-up and {settings.FanOutMeasure.TotalSeconds:0.#} s measured per target and window; medians over rounds)"));
            report.AppendLine();
            report.AppendLine("| clients, in flight | target | deliveries/s | ÷ single | ÷ same node | send-to-last-receipt p50 ms | p99 ms | p99 ÷ single | CPU µs per delivery | B allocated per delivery |");
            report.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
            foreach ((int clients, int window) in results.FanOut.Keys.Select(k => (k.Clients, k.Window)).Distinct())
            {
                Dictionary<char, List<FanOutFigures>> byTarget = targets.ToDictionary(t => t.Letter, t => results.FanOut[(clients, window, t.Letter)]);
                foreach (Target target in targets)
                {
                    List<FanOutFigures> rounds = byTarget[target.Letter];
                    report.AppendLine(Invariant($"| {clients:N0}, {window} | {target.Name} | {Statistics.Median(rounds.Select(r => r.DeliveriesPerSecond)):N0} | {Ratio(byTarget, target.Letter, Single, r => r.DeliveriesPerSecond)} | {Ratio(byTarget, target.Letter, SameNode, r => r.DeliveriesPerSecond)} | {Statistics.Median(rounds.Select(r => r.P50Microseconds)) / 1000:0.00} | {Statistics.Median(rounds.Select(r => r.P99Microseconds)) / 1000:0.00} | {Ratio(byTarget, target.Letter, Single, r => r.P99Microseconds)} | {Statistics.Median(rounds.Select(r => r.ServerMicrosecondsPerDelivery)):0.00} | {Statistics.Median(rounds.Select(r => r.ServerBytesPerDelivery)):0} |"));
                }
            }
        }

        WriteHops(report, results);
        return report.ToString();
    }

    /// <summary>The cost per hop, from a)'s latency and c)'s CPU: a round trip crosses each hop twice (in and out).</summary>
    private static void WriteHops(StringBuilder report, ClusterResults results)
    {
        bool all = new[] { Single, SameNode, OtherNode }.All(results.LatencyBlocks.ContainsKey);
        bool allCpu = new[] { Single, SameNode, OtherNode }.All(results.Clients.ContainsKey);
        if (!all && !allCpu)
        {
            return;
        }

        report.AppendLine();
        report.AppendLine("## Cost per hop");
        report.AppendLine();
        report.AppendLine("A round trip crosses each hop twice (the request in, the reply out); the figures are per crossing. Latency: paired differences of a)'s block medians (median over cycles). CPU: differences of c)'s CPU per round trip (medians over rounds).");
        report.AppendLine();
        if (all)
        {
            double gateway = Difference(results.LatencyBlocks, SameNode, Single, b => b);
            double network = Difference(results.LatencyBlocks, OtherNode, SameNode, b => b);
            report.AppendLine(Invariant($"- Gateway ↔ room grain on the same node (a grain call in, an observer call out, the frame decoded and encoded again at the gateway): **{gateway / 2:0.0} µs** of latency per crossing ({gateway:0.0} µs per round trip over the single server)."));
            report.AppendLine(Invariant($"- The network hop between nodes (loopback TCP between the silos, Orleans' serialization of the byte frames): **{network / 2:0.0} µs** more per crossing ({network:0.0} µs per round trip over the same node)."));
        }

        if (allCpu)
        {
            double gateway = Difference(results.Clients, SameNode, Single, r => r.CpuMicroseconds);
            double network = Difference(results.Clients, OtherNode, SameNode, r => r.CpuMicroseconds);
            report.AppendLine(Invariant($"- CPU, with 100 clients: gateway ↔ grain on a node **{gateway / 2:0.0} µs** per crossing; the hop between nodes **{network / 2:0.0} µs** more per crossing (both silos' share: the sender's and the receiver's)."));
        }
    }

    /// <summary>The median over rounds of <paramref name="of"/>'s figure ÷ <paramref name="over"/>'s, formatted; "–" without the other target.</summary>
    private static string Ratio<T>(Dictionary<char, List<T>> rounds, char of, char over, Func<T, double> figure)
    {
        if (of == over || !rounds.TryGetValue(of, out List<T>? mine) || !rounds.TryGetValue(over, out List<T>? theirs))
        {
            return of == over ? "1.00×" : "–";
        }

        return Invariant($"{Statistics.Median(mine.Zip(theirs, (a, b) => figure(a) / figure(b))):0.00}×");
    }

    private static double Difference<T>(Dictionary<char, List<T>> rounds, char of, char over, Func<T, double> figure) =>
        Statistics.Median(rounds[of].Zip(rounds[over], (a, b) => figure(a) - figure(b)));

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
