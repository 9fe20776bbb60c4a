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
        if (results.Descriptors is { } descriptors)
        {
            text.AppendLine(Invariant($"File descriptors: {descriptors.Describe()}."));
        }

        text.AppendLine(Invariant($"Runtime settings: the same executable and settings for every server and client (workstation concurrent GC, tiered PGO); the servers inherit the driver's environment. ")
            + Invariant($"DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS: {Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") ?? "unset"}; ")
            + Invariant($"DOTNET_ThreadPool_UnfairSemaphoreSpinLimit: {Environment.GetEnvironmentVariable("DOTNET_ThreadPool_UnfairSemaphoreSpinLimit") ?? "unset"}."));
        text.AppendLine(Invariant($"Each figure is the median of {settings.Rounds} interleaved round(s) (system order rotated per round), or of c)'s and f)'s blocks; the targets' ratios for a), c) and f) are medians of ratios taken within a cycle, between blocks run next to each other (the machine's speed drifts between windows of a few seconds: a ratio of two systems' separate medians swung from 0.59 to 0.96 for the same code). a) {settings.LatencyWarmup.TotalSeconds:0.#} s of warm-up per system, then {settings.LatencyCycles} cycles of {settings.BlockSize}-round-trip blocks per round; b) window {settings.PipelineWindow}, {settings.PipelineMeasure.TotalSeconds:0.#} s measured after {settings.PipelineWarmup.TotalSeconds:0.#} s; c) {settings.Clients} clients per system, every system's server running at once, {settings.ClientsInstances} fresh set(s) of servers and clients per round, each with {settings.ClientsWarmup.TotalSeconds:0.#} s of warm-up per system, then {settings.ClientsCycles} cycles of {settings.ClientsBlock.TotalSeconds:0.#}-s blocks, one per system (each after {settings.ClientsBlockWarmup.TotalMilliseconds:N0} ms not counted); f) {string.Join(" and ", settings.FanOutClients)} clients, {string.Join(" and ", settings.FanOutWindows)} in flight, the three systems' servers and rooms running at once, {settings.FanOutWarmup.TotalSeconds:0.#} s of warm-up per system and window, then {settings.FanOutCycles} cycles per round of {settings.FanOutBlock.TotalSeconds:0.#}-s blocks, one per system (each after {settings.FanOutBlockWarmup.TotalMilliseconds:N0} ms not counted); g) {settings.RoomsOfFour:N0} rooms of 4; e) {settings.IdleClients:N0} idle clients asked for."));
        text.AppendLine();
        if (settings.Runs('a') || settings.Runs('b') || settings.Runs('c') || settings.Runs('d'))
        {
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
            Row(text, results, Invariant($"c) server allocations per round trip (the messages' own included)"), r => r.ServerBytesPerRoundTrip, v => Invariant($"{v:N0} B"), ratios: false);
            Row(text, results, "c) server CPU per round trip", r => r.ServerCpuPerRoundTripMicroseconds, v => Invariant($"{v:N1} µs"));
            Row(text, results, "c) clients' CPU per round trip (the driver)", r => r.DriverCpuPerRoundTripMicroseconds, v => Invariant($"{v:N1} µs"));
            Row(text, results, "d) server peak RSS during c)", r => r.ServerPeakBytes, Mebibytes);
            text.AppendLine();
            text.AppendLine(Invariant($"a) paired blocks, median of the per-cycle p50 ratios: Wevis ÷ raw TCP **{Statistics.Median(results.WevisOverRawBlockRatios):0.00}**, Wevis ÷ SignalR **{Statistics.Median(results.WevisOverSignalRBlockRatios):0.00}** ({results.WevisOverRawBlockRatios.Count} cycles). Wevis's client there receives on a thread of its own (`ClientOptions.DedicatedReceiveThread`, as a game's client would be set)."));
            if (results.WevisOnPoolOverRawBlockRatios.Count > 0)
            {
                text.AppendLine();
                text.AppendLine(Invariant($"a) Wevis with the default options (receiving on the thread pool), a block of its own right after each Wevis block: RTT p50 {Microseconds(results.Median(SystemKind.Wevis, r => r.LatencyOnPool.PercentileMicroseconds(50)))}, p99 {Microseconds(results.Median(SystemKind.Wevis, r => r.LatencyOnPool.PercentileMicroseconds(99)))}; paired: ÷ raw TCP **{Statistics.Median(results.WevisOnPoolOverRawBlockRatios):0.00}**, ÷ SignalR **{Statistics.Median(results.WevisOnPoolOverSignalRBlockRatios):0.00}**."));
            }
            if (results.ClientsWevisOverRaw.Count > 0)
            {
                text.AppendLine();
                text.AppendLine(Invariant($"c) paired blocks, median of the per-cycle ratios: round trips/s Wevis ÷ raw TCP **{Statistics.Median(results.ClientsWevisOverRaw):0.00}** (cycles: {Ratios(results.ClientsWevisOverRaw)}), Wevis ÷ SignalR **{Statistics.Median(results.ClientsWevisOverSignalR):0.00}** (cycles: {Ratios(results.ClientsWevisOverSignalR)}); p99 Wevis ÷ raw TCP **{Statistics.Median(results.ClientsP99WevisOverRaw):0.00}**."));
                text.AppendLine();
                text.AppendLine(Invariant($"c) is bound by CPU: client and server share the machine's cores, so round trips/s follow the CPU both sides spend per round trip. Server and driver together, Wevis ÷ raw TCP per cycle: **{Statistics.Median(results.ClientsCpuWevisOverRaw):0.00}** (cycles: {Ratios(results.ClientsCpuWevisOverRaw)}). The other systems' idle servers used {Statistics.Median(results.ClientsOtherServersCpuMilliseconds):N0} ms of CPU in a block's {(settings.ClientsBlockWarmup + settings.ClientsBlock).TotalMilliseconds:N0} ms (median; at most {results.ClientsOtherServersCpuMilliseconds.Max():N0} ms)."));
            }
        }

        FanOutSection(text, settings, results);
        ManyRoomsSection(text, results);

        if (results.Idle is { } idle)
        {
            text.AppendLine();
            text.AppendLine(Invariant($"## e) Wevis with {idle.Clients:N0} idle logged-in clients"));
            text.AppendLine();
            text.AppendLine(Invariant($"One fresh server: c) {idle.RunsEachSide} time(s) without idle clients, then the logins, then c) {idle.RunsEachSide} time(s) among them; each side is the median of its runs, on the same server process."));
            text.AppendLine();
            text.AppendLine("| figure | value |");
            text.AppendLine("|---|---|");
            text.AppendLine(Invariant($"| time to log them all in | {idle.LoginTime.TotalSeconds:N2} s |"));
            text.AppendLine(Invariant($"| server RSS before → right after the logins | {Mebibytes(idle.ResidentBefore)} → {Mebibytes(idle.ResidentAfterLogin)} |"));
            text.AppendLine(Invariant($"| server RSS growth per idle connection, right after the logins (what the machine pays, GC slack included) | {idle.BytesPerConnection / 1024:N2} KiB |"));
            text.AppendLine(Invariant($"| live managed heap before → after the logins, each after a compacting collection | {Mebibytes(idle.HeapBefore.LiveBytes)} → {Mebibytes(idle.HeapAfter.LiveBytes)} |"));
            text.AppendLine(Invariant($"| live managed heap per idle connection (what each keeps on the heap; kernel socket buffers are not in it) | {idle.HeapBytesPerConnection / 1024:N2} KiB |"));
            text.AppendLine(Invariant($"| server RSS after that collection; the collector's committed memory before → after | {Mebibytes(idle.ResidentAfterCollect)}; {Mebibytes(idle.HeapBefore.CommittedBytes)} → {Mebibytes(idle.HeapAfter.CommittedBytes)} |"));
            text.AppendLine(Invariant($"| c) without them → among them: round trips/s | {Count(idle.WithoutRoundTripsPerSecond)} → {Count(idle.ActiveRoundTripsPerSecond)} ({idle.ActiveRoundTripsPerSecond / idle.WithoutRoundTripsPerSecond:0.00}×) |"));
            text.AppendLine(Invariant($"| c) without them → among them: p99 | {Microseconds(idle.WithoutP99Microseconds)} → {Microseconds(idle.ActiveP99Microseconds)} ({idle.ActiveP99Microseconds / idle.WithoutP99Microseconds:0.00}×) |"));
            text.AppendLine(Invariant($"| server peak RSS | {Mebibytes(idle.ServerPeakBytes)} |"));
            text.AppendLine();
            text.AppendLine("RSS does not fall after a collection: the collector keeps the memory it freed committed for the next allocations, so RSS after a collection can read higher than right after the logins and is not memory the connections keep. The live heap after a compacting collection is.");
        }

        text.AppendLine();
        text.AppendLine("## Targets (ratios from this run)");
        text.AppendLine();
        text.AppendLine("The last column is the same ratio with the raw TCP floor in Wevis's place, where the run measured it: a target the floor itself misses asks Wevis to be faster than plain sockets doing the same work.");
        text.AppendLine();
        text.AppendLine("| target | measured | required | met | the floor's own |");
        text.AppendLine("|---|---|---|---|---|");
        foreach (Target target in Targets(settings, results).Where(t => t.Ran))
        {
            string floor = target.Floor is { } value && !double.IsNaN(value) ? Invariant($"{value:0.00}") : string.Empty;
            text.AppendLine(Invariant($"| {target.Name} | {target.Measured} | {target.Required} | {(target.Met ? "yes" : "**no**")} | {floor} |"));
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

    private static void FanOutSection(StringBuilder text, LoadTestSettings settings, RunResults results)
    {
        if (results.FanOut.Count == 0)
        {
            return;
        }

        SystemKind[] systems = [SystemKind.Raw, SystemKind.Wevis, SystemKind.SignalR];
        text.AppendLine();
        text.AppendLine("## f) Fan-out: one room, one sender, every message to everyone in it");
        text.AppendLine();
        text.AppendLine(Invariant($"A fresh server per system and room size, the three running at once, each with its room of clients; they take turns in blocks of {settings.FanOutBlock.TotalSeconds:0.#} s, {settings.FanOutCycles} cycles per window and round. The sender is one of the room's clients and receives its own messages too. A message is delivered when its last recipient has it: deliveries/s counts those messages times the recipients (the median over blocks); the latency runs from the send to that last receipt (percentiles of every block's messages pooled). The floor writes each read's shouts to every socket in turn, one write each; Wevis repeats with `Room.Broadcast`; SignalR with `Clients.Group(...)`. Each cell: the figure, then Wevis's and SignalR's ratio to raw TCP (and Wevis's to SignalR)."));
        text.AppendLine();
        text.AppendLine("| clients, in flight | figure | " + string.Join(" | ", systems.Select(c => c.DisplayName())) + " |");
        text.AppendLine("|---|---|" + string.Concat(systems.Select(_ => "---|")));
        foreach (int clients in settings.FanOutClients)
        {
            foreach (int window in settings.FanOutWindows)
            {
                FanOutRow(text, results, clients, window, "deliveries/s", f => f.DeliveriesPerSecond, Count);
                FanOutLatencyRow(text, results, clients, window, 50);
                FanOutLatencyRow(text, results, clients, window, 99);
                FanOutRow(text, results, clients, window, "server CPU per delivery", f => f.ServerMicrosecondsPerDelivery, v => Invariant($"{v:N2} µs"));
                FanOutRow(text, results, clients, window, "server allocations per delivery", f => f.ServerBytesPerDelivery, v => Invariant($"{v:N0} B"), ratios: false);
                FanOutRow(text, results, clients, window, "clients' CPU per delivery (the driver)", f => f.ClientsMicrosecondsPerDelivery, v => Invariant($"{v:N2} µs"));
            }
        }
    }

    private static void FanOutLatencyRow(StringBuilder text, RunResults results, int clients, int window, double percentile)
    {
        double raw = results.FanOutLatency(SystemKind.Raw, clients, window).PercentileMicroseconds(percentile);
        double signalR = results.FanOutLatency(SystemKind.SignalR, clients, window).PercentileMicroseconds(percentile);
        double wevis = results.FanOutLatency(SystemKind.Wevis, clients, window).PercentileMicroseconds(percentile);
        text.Append(Invariant($"| {clients:N0}, {window} | send to last receipt p{percentile:0} | {Microseconds(raw)} | "));
        text.Append(Invariant($"{Microseconds(wevis)} ({wevis / raw:0.00}× raw, {wevis / signalR:0.00}× SignalR) | "));
        text.AppendLine(Invariant($"{Microseconds(signalR)} ({signalR / raw:0.00}× raw) |"));
    }

    private static string Ratios(IEnumerable<double> ratios) => string.Join(", ", ratios.Select(r => r.ToString("0.00", CultureInfo.InvariantCulture)));

    private static void FanOutRow(StringBuilder text, RunResults results, int clients, int window, string name, Func<FanOutFigures, double> figure, Func<double, string> format, bool ratios = true)
    {
        double raw = results.FanOutMedian(SystemKind.Raw, clients, window, figure);
        double signalR = results.FanOutMedian(SystemKind.SignalR, clients, window, figure);
        double wevis = results.FanOutMedian(SystemKind.Wevis, clients, window, figure);
        if (!ratios)
        {
            // Ratios to a figure near zero (the floor allocates nothing) say nothing.
            text.AppendLine(Invariant($"| {clients:N0}, {window} | {name} | {format(raw)} | {format(wevis)} | {format(signalR)} |"));
            return;
        }

        text.Append(Invariant($"| {clients:N0}, {window} | {name} | {format(raw)} | "));
        text.Append(Invariant($"{format(wevis)} ({wevis / raw:0.00}× raw, {wevis / signalR:0.00}× SignalR) | "));
        text.AppendLine(Invariant($"{format(signalR)} ({signalR / raw:0.00}× raw) |"));
    }

    private static void ManyRoomsSection(StringBuilder text, RunResults results)
    {
        if (results.ManyRooms.Count == 0)
        {
            return;
        }

        ManyRoomsFigures first = results.ManyRooms[0];
        double single = results.ManyRoomsMedian(g => g.SingleRoomPerSecond);
        double singleP99 = results.ManyRoomsMedian(g => g.SingleRoomP99Microseconds);
        double rooms = results.ManyRoomsMedian(g => g.RoomsPerSecond);
        double broadcast = results.ManyRoomsMedian(g => g.BroadcastPerSecond);
        text.AppendLine();
        text.AppendLine(Invariant($"## g) Many rooms: Wevis, {first.Clients:N0} clients in one room, and in rooms of 4"));
        text.AppendLine();
        text.AppendLine(Invariant($"One fresh server per round and the same {first.Clients:N0} connections throughout: c) with all of them in the entry room (one room), then in rooms of four joined by join-or-create (they ended up in {string.Join(", ", results.ManyRooms.Select(g => g.Rooms.ToString("N0", CultureInfo.InvariantCulture)).Distinct())} rooms), then each client shouting its number and waiting for it to come back through its room's broadcast (4 deliveries per round trip). Which of one room and many goes first alternates per round."));
        text.AppendLine();
        text.AppendLine("| figure | round trips/s | p99 | ÷ one room's round trips/s |");
        text.AppendLine("|---|---|---|---|");
        text.AppendLine(Invariant($"| one room, request/response (c) with as many clients) | {Count(single)} | {Microseconds(singleP99)} | 1.00 |"));
        text.AppendLine(Invariant($"| rooms of 4, request/response | {Count(rooms)} | {Microseconds(results.ManyRoomsMedian(g => g.RoomsP99Microseconds))} | {rooms / single:0.00} |"));
        text.AppendLine(Invariant($"| rooms of 4, broadcast ({Count(results.ManyRoomsMedian(g => g.BroadcastDeliveriesPerSecond))} deliveries/s) | {Count(broadcast)} | {Microseconds(results.ManyRoomsMedian(g => g.BroadcastP99Microseconds))} | {broadcast / single:0.00} |"));
        if (results.RawGroups.Count == 0)
        {
            return;
        }

        double rawRequests = Statistics.Median(results.RawGroups.Select(g => g.RequestsPerSecond));
        double rawBroadcast = Statistics.Median(results.RawGroups.Select(g => g.BroadcastPerSecond));
        text.AppendLine();
        text.AppendLine(Invariant($"The floor for the same, in its own fresh server per round (before or after Wevis's, alternating): raw TCP with {results.RawGroups[0].Clients:N0} connections in request/response, then grouped by fours in the order the server accepted them, each shouting its number and waiting for it to come back through its group (the server writes a read's shouts to the group's four, one write each). For the floor a broadcast round trip makes four writes where a request makes one; Wevis holds a broadcast's writes until its thread has handled the other reads it was handed at the same time (or 16 batches of them), so the shouts of a room handled together reach each member in one write. The floor's ratio to its request/response is beside Wevis's."));
        text.AppendLine();
        text.AppendLine("| figure | raw TCP round trips/s | p99 | raw: ÷ its request/response | Wevis ÷ raw TCP |");
        text.AppendLine("|---|---|---|---|---|");
        text.AppendLine(Invariant($"| request/response (Wevis: one room) | {Count(rawRequests)} | {Microseconds(Statistics.Median(results.RawGroups.Select(g => g.RequestsP99Microseconds)))} | 1.00 | {single / rawRequests:0.00} (rooms of 4: {rooms / rawRequests:0.00}) |"));
        text.AppendLine(Invariant($"| groups (rooms) of 4, broadcast ({Count(Statistics.Median(results.RawGroups.Select(g => g.BroadcastDeliveriesPerSecond)))} deliveries/s) | {Count(rawBroadcast)} | {Microseconds(Statistics.Median(results.RawGroups.Select(g => g.BroadcastP99Microseconds)))} | {rawBroadcast / rawRequests:0.00} | {broadcast / rawBroadcast:0.00} |"));
    }

    private static IEnumerable<Target> Targets(LoadTestSettings settings, RunResults results)
    {
        double Median(SystemKind s, Func<SystemRound, double> f) => results.Median(s, f);
        double rawOverBlocks = Statistics.Median(results.WevisOverRawBlockRatios);
        double signalROverBlocks = Statistics.Median(results.WevisOverSignalRBlockRatios);
        yield return Target.AtMost("a) Wevis RTT p50 ÷ raw TCP (paired blocks)", rawOverBlocks, 1.25);
        yield return Target.AtMost("a) Wevis RTT p50 ÷ SignalR (paired blocks)", signalROverBlocks, 0.6) with { Floor = Statistics.Median(results.RawOverSignalRBlockRatios) };
        double pipelined = Median(SystemKind.Wevis, r => r.PipelinedPerSecond);
        yield return Target.AtLeast("b) Wevis pipelined replies/s", pipelined, 3_000_000, Count);
        yield return Target.AtLeast("b) Wevis pipelined ÷ SignalR", pipelined / Median(SystemKind.SignalR, r => r.PipelinedPerSecond), 5);
        yield return Target.AtLeast("c) Wevis round trips/s ÷ raw TCP (paired blocks)", Statistics.Median(results.ClientsWevisOverRaw), 0.9);
        yield return Target.AtLeast("c) Wevis round trips/s ÷ SignalR (paired blocks)", Statistics.Median(results.ClientsWevisOverSignalR), 1.5) with { Floor = Statistics.Median(results.ClientsRawOverSignalR) };
        yield return Target.AtMost("c) Wevis p99 ÷ raw TCP p99 (paired blocks)", Statistics.Median(results.ClientsP99WevisOverRaw), 1.5);
        yield return Target.AtMost("d) Wevis server peak RSS ÷ raw TCP's", Median(SystemKind.Wevis, r => r.ServerPeakBytes) / Median(SystemKind.Raw, r => r.ServerPeakBytes), 1.3);
        if (results.Idle is { } idle)
        {
            yield return Target.AtMost(Invariant($"e) {idle.Clients:N0} idle clients logged in (s)"), idle.LoginTime.TotalSeconds, 10);
            yield return Target.AtMost("e) server RSS growth per idle connection, right after the logins (KiB)", idle.BytesPerConnection / 1024, 10);
            yield return Target.AtMost("e) live managed heap per idle connection, after a compacting collection (KiB)", idle.HeapBytesPerConnection / 1024, 10);
            yield return Target.AtLeast(Invariant($"e) c) among them ÷ without them, same server, {idle.RunsEachSide} run(s) each: round trips/s"), idle.ActiveRoundTripsPerSecond / idle.WithoutRoundTripsPerSecond, 1 / 1.5);
            yield return Target.AtMost(Invariant($"e) c) among them ÷ without them, same server, {idle.RunsEachSide} run(s) each: p99"), idle.ActiveP99Microseconds / idle.WithoutP99Microseconds, 1.5);
        }

        foreach (int clientCount in settings.FanOutClients)
        {
            foreach (int window in settings.FanOutWindows)
            {
                yield return Target.AtLeast(Invariant($"f) {clientCount:N0} clients, {window} in flight: Wevis deliveries/s ÷ raw TCP (paired blocks)"), results.FanOutPairedMedian(clientCount, window, p => p.WevisOverRaw), 0.8);
            }
        }

        int largest = settings.FanOutClients.Max();
        int widest = settings.FanOutWindows.Max();
        yield return Target.AtLeast(
            Invariant($"f) {largest:N0} clients, {widest} in flight: Wevis deliveries/s ÷ SignalR (group; paired blocks)"),
            results.FanOutPairedMedian(largest, widest, p => p.WevisOverSignalR),
            2.5) with { Floor = results.FanOutPairedMedian(largest, widest, p => p.RawOverSignalR) };
        foreach (int clientCount in settings.FanOutClients)
        {
            foreach (int window in settings.FanOutWindows)
            {
                double wevis = results.FanOutLatency(SystemKind.Wevis, clientCount, window).PercentileMicroseconds(99);
                double raw = results.FanOutLatency(SystemKind.Raw, clientCount, window).PercentileMicroseconds(99);
                yield return Target.AtMost(Invariant($"f) {clientCount:N0} clients, {window} in flight: Wevis p99 send-to-last-receipt ÷ raw TCP's (blocks pooled)"), wevis / raw, 1.3);
            }
        }

        if (results.ManyRooms.Count > 0)
        {
            double single = results.ManyRoomsMedian(g => g.SingleRoomPerSecond);
            yield return Target.AtLeast("g) rooms of 4, request/response: round trips/s ÷ one room with as many clients", results.ManyRoomsMedian(g => g.RoomsPerSecond) / single, 0.9);
            double floor = results.RawGroups.Count > 0
                ? Statistics.Median(results.RawGroups.Select(g => g.BroadcastPerSecond)) / Statistics.Median(results.RawGroups.Select(g => g.RequestsPerSecond))
                : double.NaN;
            yield return Target.AtLeast("g) rooms of 4, broadcast (each round trip delivers 4): round trips/s ÷ one room's request/response", results.ManyRoomsMedian(g => g.BroadcastPerSecond) / single, 0.9) with { Floor = floor };
        }
    }

    private static void Row(StringBuilder text, RunResults results, string name, Func<SystemRound, double> figure, Func<double, string> format, bool ratios = true)
    {
        double raw = results.Median(SystemKind.Raw, figure);
        double signalR = results.Median(SystemKind.SignalR, figure);
        text.Append("| ").Append(name).Append(" |");
        foreach (SystemKind system in Columns)
        {
            double value = results.Median(system, figure);
            text.Append(' ').Append(format(value));
            if (system != SystemKind.Raw && ratios)
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
        /// <summary>The same ratio with the raw TCP floor in Wevis's place, where the run measured it.</summary>
        public double? Floor { get; init; }

        /// <summary>Whether its scenario ran (<c>--only</c> may leave some out).</summary>
        public bool Ran { get; init; } = true;

        public static Target AtMost(string name, double value, double limit) =>
            new(name, Invariant($"{value:0.00}"), Invariant($"≤ {limit:0.##}"), value <= limit) { Ran = !double.IsNaN(value) };

        public static Target AtLeast(string name, double value, double limit) =>
            new(name, Invariant($"{value:0.00}"), Invariant($"≥ {limit:0.##}"), value >= limit) { Ran = !double.IsNaN(value) };

        public static Target AtLeast(string name, double value, double limit, Func<double, string> format) =>
            new(name, format(value), "≥ " + format(limit), value >= limit) { Ran = !double.IsNaN(value) };
    }
}
