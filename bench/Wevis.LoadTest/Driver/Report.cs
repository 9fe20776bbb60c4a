using System.Globalization;
using System.Text;
using Wevis.LoadTest.Servers;

namespace Wevis.LoadTest.Driver;

/// <summary>Turns a run's results into one markdown table of figures with their ratios, and the targets met or missed.</summary>
internal static class Report
{
    private static readonly SystemKind[] Columns = [SystemKind.Raw, SystemKind.Wevis, SystemKind.SignalR, SystemKind.Grpc];

    public static string Build(LoadTestSettings settings, RunResults results, string loadBefore, string loadAfter, TimeSpan duration)
    {
        var text = new StringBuilder();
        string mode = settings.Quick ? "quick (CI smoke run: figures are not meaningful)" : "full";
        text.AppendLine(Invariant($"# Wevis load test, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {mode}"));
        text.AppendLine();
        text.AppendLine(Invariant($"Machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {Environment.OSVersion}. Client and servers share the cores over 127.0.0.1; each server in its own process."));
        text.AppendLine(Invariant($"Load average (1, 5, 15 min) before: {loadBefore}; after: {loadAfter}. Run took {duration.TotalSeconds:N0} s."));
        text.AppendLine(Invariant($"Runtime settings: the same executable and settings for every server and client (workstation concurrent GC, tiered PGO). DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS: {Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") ?? "unset"}."));
        text.AppendLine(Invariant($"Each figure is the median of {settings.Rounds} interleaved round(s) (system order rotated per round). a) {settings.LatencyWarmup.TotalSeconds:0.#} s of warm-up per system, then {settings.LatencyCycles} cycles of {settings.BlockSize}-round-trip blocks per round; b) window {settings.PipelineWindow}, {settings.PipelineMeasure.TotalSeconds:0.#} s measured after {settings.PipelineWarmup.TotalSeconds:0.#} s; c) {settings.Clients} clients, {settings.ClientsMeasure.TotalSeconds:0.#} s measured after {settings.ClientsWarmup.TotalSeconds:0.#} s; e) {settings.IdleClients:N0} idle clients."));
        text.AppendLine();
        text.AppendLine("## Figures");
        text.AppendLine();
        text.AppendLine("Each cell: the figure, then its ratio to raw TCP and to SignalR.");
        text.AppendLine();
        text.AppendLine("| figure | " + string.Join(" | ", Columns.Select(c => c.DisplayName())) + " |");
        text.AppendLine("|---|" + string.Concat(Columns.Select(_ => "---|")));
        Row(text, results, "a) RTT p50", r => r.Latency.PercentileMicroseconds(50), Microseconds);
        Row(text, results, "a) RTT p99", r => r.Latency.PercentileMicroseconds(99), Microseconds);
        Row(text, results, "a) RTT p99.9", r => r.Latency.PercentileMicroseconds(99.9), Microseconds);
        Row(text, results, "b) pipelined, 1 connection (replies/s)", r => r.PipelinedPerSecond, Count);
        Row(text, results, Invariant($"c) {settings.Clients} clients (round trips/s)"), r => r.ClientsRoundTripsPerSecond, Count);
        Row(text, results, Invariant($"c) {settings.Clients} clients p99"), r => r.ClientsP99Microseconds, Microseconds);
        Row(text, results, "d) server peak RSS during c)", r => r.ServerPeakBytes, Mebibytes);
        text.AppendLine();
        text.AppendLine(Invariant($"a) paired blocks, median of the per-cycle p50 ratios: Wevis ÷ raw TCP **{Statistics.Median(results.WevisOverRawBlockRatios):0.00}**, Wevis ÷ SignalR **{Statistics.Median(results.WevisOverSignalRBlockRatios):0.00}** ({results.WevisOverRawBlockRatios.Count} cycles)."));

        if (results.Idle is { } idle)
        {
            text.AppendLine();
            text.AppendLine(Invariant($"## e) Wevis with {idle.Clients:N0} idle logged-in clients"));
            text.AppendLine();
            text.AppendLine("| figure | value |");
            text.AppendLine("|---|---|");
            text.AppendLine(Invariant($"| time to log them all in | {idle.LoginTime.TotalSeconds:N2} s |"));
            text.AppendLine(Invariant($"| server RSS before → after the logins → after a full collection | {Mebibytes(idle.ResidentBefore)} → {Mebibytes(idle.ResidentAfterLogin)} → {Mebibytes(idle.ResidentAfterCollect)} |"));
            text.AppendLine(Invariant($"| server memory per idle connection, right after the logins | {idle.BytesPerConnection / 1024:N2} KiB |"));
            text.AppendLine(Invariant($"| server memory per idle connection, after a full collection | {idle.BytesPerConnectionCollected / 1024:N2} KiB |"));
            text.AppendLine(Invariant($"| c) among them: round trips/s | {Count(idle.ActiveRoundTripsPerSecond)} ({idle.ActiveRoundTripsPerSecond / results.Median(SystemKind.Wevis, r => r.ClientsRoundTripsPerSecond):0.00}× without them) |"));
            text.AppendLine(Invariant($"| c) among them: p99 | {Microseconds(idle.ActiveP99Microseconds)} ({idle.ActiveP99Microseconds / results.Median(SystemKind.Wevis, r => r.ClientsP99Microseconds):0.00}× without them) |"));
            text.AppendLine(Invariant($"| server peak RSS | {Mebibytes(idle.ServerPeakBytes)} |"));
        }

        text.AppendLine();
        text.AppendLine("## Targets (ratios from this run)");
        text.AppendLine();
        text.AppendLine("| target | measured | required | met |");
        text.AppendLine("|---|---|---|---|");
        foreach (Target target in Targets(results))
        {
            text.AppendLine(Invariant($"| {target.Name} | {target.Measured} | {target.Required} | {(target.Met ? "yes" : "**no**")} |"));
        }

        if (results.Notes.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("## Notes");
            text.AppendLine();
            foreach (string note in results.Notes)
            {
                text.AppendLine("- " + note);
            }
        }

        return text.ToString();
    }

    private static IEnumerable<Target> Targets(RunResults results)
    {
        double Median(SystemKind s, Func<SystemRound, double> f) => results.Median(s, f);
        double rawOverBlocks = Statistics.Median(results.WevisOverRawBlockRatios);
        double signalROverBlocks = Statistics.Median(results.WevisOverSignalRBlockRatios);
        yield return Target.AtMost("a) Wevis RTT p50 ÷ raw TCP (paired blocks)", rawOverBlocks, 1.25);
        yield return Target.AtMost("a) Wevis RTT p50 ÷ SignalR (paired blocks)", signalROverBlocks, 0.6);
        double pipelined = Median(SystemKind.Wevis, r => r.PipelinedPerSecond);
        yield return Target.AtLeast("b) Wevis pipelined replies/s", pipelined, 3_000_000, Count);
        yield return Target.AtLeast("b) Wevis pipelined ÷ SignalR", pipelined / Median(SystemKind.SignalR, r => r.PipelinedPerSecond), 5);
        double clients = Median(SystemKind.Wevis, r => r.ClientsRoundTripsPerSecond);
        yield return Target.AtLeast("c) Wevis round trips/s ÷ raw TCP", clients / Median(SystemKind.Raw, r => r.ClientsRoundTripsPerSecond), 0.9);
        yield return Target.AtLeast("c) Wevis round trips/s ÷ SignalR", clients / Median(SystemKind.SignalR, r => r.ClientsRoundTripsPerSecond), 1.5);
        double p99 = Median(SystemKind.Wevis, r => r.ClientsP99Microseconds);
        yield return Target.AtMost("c) Wevis p99 ÷ raw TCP p99", p99 / Median(SystemKind.Raw, r => r.ClientsP99Microseconds), 1.5);
        yield return Target.AtMost("d) Wevis server peak RSS ÷ raw TCP's", Median(SystemKind.Wevis, r => r.ServerPeakBytes) / Median(SystemKind.Raw, r => r.ServerPeakBytes), 1.3);
        if (results.Idle is { } idle)
        {
            yield return Target.AtMost(Invariant($"e) {idle.Clients:N0} idle clients logged in (s)"), idle.LoginTime.TotalSeconds, 10);
            yield return Target.AtMost("e) server memory per idle connection (KiB, after a full collection)", idle.BytesPerConnectionCollected / 1024, 10);
            yield return Target.AtMost("e) server memory per idle connection (KiB, right after the logins)", idle.BytesPerConnection / 1024, 10);
            yield return Target.AtLeast("e) c) among them: round trips/s ÷ without them", idle.ActiveRoundTripsPerSecond / clients, 1 / 1.5);
            yield return Target.AtMost("e) c) among them: p99 ÷ without them", idle.ActiveP99Microseconds / p99, 1.5);
        }
    }

    private static void Row(StringBuilder text, RunResults results, string name, Func<SystemRound, double> figure, Func<double, string> format)
    {
        double raw = results.Median(SystemKind.Raw, figure);
        double signalR = results.Median(SystemKind.SignalR, figure);
        text.Append("| ").Append(name).Append(" |");
        foreach (SystemKind system in Columns)
        {
            double value = results.Median(system, figure);
            text.Append(' ').Append(format(value));
            if (system != SystemKind.Raw)
            {
                text.Append(Invariant($" ({value / raw:0.00}× raw"));
                text.Append(system == SystemKind.SignalR ? ")" : Invariant($", {value / signalR:0.00}× SignalR)"));
            }

            text.Append(" |");
        }

        text.AppendLine();
    }

    private static string Microseconds(double value) => value >= 10_000 ? Invariant($"{value / 1000:N2} ms") : Invariant($"{value:N1} µs");

    private static string Count(double value) => Invariant($"{value:N0}");

    private static string Mebibytes(double value) => Invariant($"{value / 1048576:N1} MiB");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private sealed record Target(string Name, string Measured, string Required, bool Met)
    {
        public static Target AtMost(string name, double value, double limit) =>
            new(name, Invariant($"{value:0.00}"), Invariant($"≤ {limit:0.##}"), value <= limit);

        public static Target AtLeast(string name, double value, double limit) =>
            new(name, Invariant($"{value:0.00}"), Invariant($"≥ {limit:0.##}"), value >= limit);

        public static Target AtLeast(string name, double value, double limit, Func<double, string> format) =>
            new(name, format(value), "≥ " + format(limit), value >= limit);
    }
}
