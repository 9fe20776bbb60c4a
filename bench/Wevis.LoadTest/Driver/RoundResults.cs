using Wevis.LoadTest.Servers;

namespace Wevis.LoadTest.Driver;

/// <summary>One system's figures from one round.</summary>
internal sealed class SystemRound
{
    public LatencySamples Latency { get; } = new(16 * 1024);

    /// <summary>a) Wevis only: the client with the default options, receiving on the thread pool.</summary>
    public LatencySamples LatencyOnPool { get; } = new(16 * 1024);

    public double PipelinedPerSecond { get; set; } = double.NaN;

    public double ClientsRoundTripsPerSecond { get; set; } = double.NaN;

    public double ClientsP99Microseconds { get; set; } = double.NaN;

    public long ServerPeakBytes { get; set; }

    /// <summary>c) What the server allocated on the managed heap per round trip (about: a block's uncounted start is included at its counted rate).</summary>
    public double ServerBytesPerRoundTrip { get; set; } = double.NaN;

    /// <summary>c) The server's CPU time (user and system) per round trip, median over blocks.</summary>
    public double ServerCpuPerRoundTripMicroseconds { get; set; } = double.NaN;

    /// <summary>c) The driver's CPU time per round trip (the clients' side), median over blocks.</summary>
    public double DriverCpuPerRoundTripMicroseconds { get; set; } = double.NaN;
}

/// <summary>Everything one run measured.</summary>
internal sealed class RunResults
{
    public Dictionary<SystemKind, List<SystemRound>> Rounds { get; } = [];

    /// <summary>a) Per cycle: Wevis block p50 ÷ the adjacent raw block's p50.</summary>
    public List<double> WevisOverRawBlockRatios { get; } = [];

    /// <summary>a) Per cycle: the block p50 of the Wevis client with the default options (receiving on the thread pool) ÷ the same cycle's raw block's.</summary>
    public List<double> WevisOnPoolOverRawBlockRatios { get; } = [];

    /// <summary>a) Per cycle: the block p50 of the Wevis client with the default options ÷ the same cycle's SignalR block's.</summary>
    public List<double> WevisOnPoolOverSignalRBlockRatios { get; } = [];

    /// <summary>a) Per cycle: Wevis block p50 ÷ the same cycle's SignalR block p50.</summary>
    public List<double> WevisOverSignalRBlockRatios { get; } = [];

    /// <summary>a) Per cycle: the raw block's p50 ÷ the same cycle's SignalR block p50 (the floor's own ratio).</summary>
    public List<double> RawOverSignalRBlockRatios { get; } = [];

    /// <summary>c) Per cycle: Wevis's block round trips/s ÷ the same cycle's raw block's.</summary>
    public List<double> ClientsWevisOverRaw { get; } = [];

    /// <summary>c) Per cycle: Wevis's block round trips/s ÷ the same cycle's SignalR block's.</summary>
    public List<double> ClientsWevisOverSignalR { get; } = [];

    /// <summary>c) Per cycle: Wevis's block p99 ÷ the same cycle's raw block's.</summary>
    public List<double> ClientsP99WevisOverRaw { get; } = [];

    /// <summary>c) Per cycle: Wevis's CPU per round trip, server and driver together, ÷ the same cycle's raw block's.</summary>
    public List<double> ClientsCpuWevisOverRaw { get; } = [];

    /// <summary>c) Per block, every system: the CPU time the other systems' idle servers used meanwhile.</summary>
    public List<double> ClientsOtherServersCpuMilliseconds { get; } = [];

    /// <summary>c) Per cycle: the raw block's round trips/s ÷ the same cycle's SignalR block's (the floor's own ratio).</summary>
    public List<double> ClientsRawOverSignalR { get; } = [];

    /// <summary>
    /// f) Per room size and messages in flight, per cycle: Wevis's block deliveries/s ÷ the same cycle's raw and SignalR
    /// blocks', and the raw block's ÷ the SignalR block's (the floor's own ratio).
    /// </summary>
    public Dictionary<(int Clients, int Window), List<FanOutPair>> FanOutPairs { get; } = [];

    public IdleResults? Idle { get; set; }

    /// <summary>f) Per system, room size and messages in flight: one figure per round.</summary>
    public Dictionary<(SystemKind System, int Clients, int Window), List<FanOutFigures>> FanOut { get; } = [];

    /// <summary>g) One per round.</summary>
    public List<ManyRoomsFigures> ManyRooms { get; } = [];

    /// <summary>g) The floor's figures, one per round.</summary>
    public List<RawGroupsFigures> RawGroups { get; } = [];

    /// <summary>The driver's open-file limit, read at the start.</summary>
    public FileDescriptors? Descriptors { get; set; }

    public void AddFanOut(SystemKind system, int clients, int window, FanOutFigures figures)
    {
        if (!FanOut.TryGetValue((system, clients, window), out List<FanOutFigures>? list))
        {
            FanOut[(system, clients, window)] = list = [];
        }

        list.Add(figures);
    }

    public void AddFanOutPair(int clients, int window, FanOutPair pair)
    {
        if (!FanOutPairs.TryGetValue((clients, window), out List<FanOutPair>? list))
        {
            FanOutPairs[(clients, window)] = list = [];
        }

        list.Add(pair);
    }

    /// <summary>f) The median over cycles of a paired ratio, or NaN when the case did not run.</summary>
    public double FanOutPairedMedian(int clients, int window, Func<FanOutPair, double> ratio) =>
        FanOutPairs.TryGetValue((clients, window), out List<FanOutPair>? list) ? Statistics.Median(list.Select(ratio)) : double.NaN;

    /// <summary>
    /// f) Every measured message of one system, room size and window, all blocks pooled: one block of 1,000 clients with
    /// one message in flight holds too few messages for a p99 of its own.
    /// </summary>
    public LatencySamples FanOutLatency(SystemKind system, int clients, int window) =>
        FanOut.TryGetValue((system, clients, window), out List<FanOutFigures>? list) ? LatencySamples.Merge(list.Select(f => f.Samples)) : new LatencySamples(1);

    /// <summary>f) The median over blocks of one figure, or NaN when the case did not run.</summary>
    public double FanOutMedian(SystemKind system, int clients, int window, Func<FanOutFigures, double> figure) =>
        FanOut.TryGetValue((system, clients, window), out List<FanOutFigures>? list) ? Statistics.Median(list.Select(figure)) : double.NaN;

    /// <summary>g) The median over rounds of one figure.</summary>
    public double ManyRoomsMedian(Func<ManyRoomsFigures, double> figure) => Statistics.Median(ManyRooms.Select(figure));

    public List<string> Notes { get; } = [];

    public SystemRound NewRound(SystemKind system)
    {
        if (!Rounds.TryGetValue(system, out List<SystemRound>? rounds))
        {
            Rounds[system] = rounds = [];
        }

        var round = new SystemRound();
        rounds.Add(round);
        return round;
    }

    public double Median(SystemKind system, Func<SystemRound, double> figure) =>
        Rounds.TryGetValue(system, out List<SystemRound>? rounds) ? Statistics.Median(rounds.Select(figure)) : double.NaN;
}

/// <summary>f) One cycle's ratios of deliveries/s between blocks run next to each other.</summary>
internal sealed record FanOutPair(double WevisOverRaw, double WevisOverSignalR, double RawOverSignalR);

/// <summary>
/// e) Wevis with many idle logged-in clients. The resident set (RSS) is what the operating system sees; it does not
/// shrink after a collection, because the garbage collector keeps the memory it frees committed for reuse, so RSS
/// after a collection is not memory the connections keep. What they keep on the managed heap is the live heap after
/// a compacting collection; what they cost the machine is the RSS growth over the logins (GC slack included).
/// </summary>
internal sealed record IdleResults(
    int Clients,
    TimeSpan LoginTime,
    long ResidentBefore,
    long ResidentAfterLogin,
    long ResidentAfterCollect,
    ManagedHeap HeapBefore,
    ManagedHeap HeapAfter,
    double WithoutRoundTripsPerSecond,
    double WithoutP99Microseconds,
    double ActiveRoundTripsPerSecond,
    double ActiveP99Microseconds,
    int RunsEachSide,
    long ServerPeakBytes)
{
    /// <summary>RSS growth over the logins ÷ clients, measured right after the last login: the honest upper bound.</summary>
    public double BytesPerConnection => (ResidentAfterLogin - ResidentBefore) / (double)Clients;

    /// <summary>Live managed heap growth ÷ clients, both after a compacting collection: what each idle connection keeps on the heap.</summary>
    public double HeapBytesPerConnection => (HeapAfter.LiveBytes - HeapBefore.LiveBytes) / (double)Clients;
}

/// <summary>f) and g) in one run.</summary>
/// <param name="Rooms">How many distinct rooms the clients ended up in (join-or-create: should be clients ÷ 4).</param>
internal sealed record ManyRoomsFigures(
    int Rooms,
    int Clients,
    double SingleRoomPerSecond,
    double SingleRoomP99Microseconds,
    double RoomsPerSecond,
    double RoomsP99Microseconds,
    double BroadcastPerSecond,
    double BroadcastP99Microseconds,
    double BroadcastDeliveriesPerSecond);

/// <summary>g) The raw floor with as many connections: request/response, and broadcast in groups of four.</summary>
internal sealed record RawGroupsFigures(
    int Clients,
    double RequestsPerSecond,
    double RequestsP99Microseconds,
    double BroadcastPerSecond,
    double BroadcastP99Microseconds,
    double BroadcastDeliveriesPerSecond);
