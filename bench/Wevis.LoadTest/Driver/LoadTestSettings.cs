namespace Wevis.LoadTest.Driver;

/// <summary>How long and how big each scenario is: the full run, or <c>--quick</c> (CI: a few seconds, figures not checked).</summary>
internal sealed record LoadTestSettings
{
    public bool Quick { get; init; }

    /// <summary>The scenarios to run, by letter (<c>--only fg</c>); a) and b) run together, as do c) and d). All by default.</summary>
    public string Only { get; init; } = "abcdefg";

    public bool Runs(char scenario) => Only.Contains(scenario, StringComparison.Ordinal);

    /// <summary>Interleaved rounds; each figure is the median over rounds.</summary>
    public int Rounds { get; init; } = 3;

    /// <summary>a) Cycles per round; each cycle runs one block of each system (raw and Wevis back to back).</summary>
    public int LatencyCycles { get; init; } = 20;

    /// <summary>a) Round trips per block.</summary>
    public int BlockSize { get; init; } = 500;

    /// <summary>
    /// a) How long each system makes round trips before any is recorded: long enough for tiered compilation to
    /// have optimised the hot paths of client and server.
    /// </summary>
    public TimeSpan LatencyWarmup { get; init; } = TimeSpan.FromSeconds(1.5);

    /// <summary>b) Requests in flight at most.</summary>
    public int PipelineWindow { get; init; } = 1_000;

    public TimeSpan PipelineWarmup { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan PipelineMeasure { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>c) Concurrent clients, each in strict request/response.</summary>
    public int Clients { get; init; } = 100;

    /// <summary>c), e) and g): how long the clients make round trips before any is counted (c): once per system and round).</summary>
    public TimeSpan ClientsWarmup { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>e) and g): how long round trips are counted.</summary>
    public TimeSpan ClientsMeasure { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>c) Fresh servers and clients per round: each instance is warmed up, then runs <see cref="ClientsCycles"/> cycles.</summary>
    public int ClientsInstances { get; init; } = 3;

    /// <summary>c) Cycles per instance; each cycle runs one block of each system (raw and Wevis back to back, which first alternating).</summary>
    public int ClientsCycles { get; init; } = 2;

    /// <summary>c) A block's start, not counted: the clients' loops restart on warm connections.</summary>
    public TimeSpan ClientsBlockWarmup { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>c) How long a block counts round trips.</summary>
    public TimeSpan ClientsBlock { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>f) The fan-out room's sizes: every client receives every message (the sender is one of them).</summary>
    public int[] FanOutClients { get; init; } = [100, 1_000];

    /// <summary>f) Messages in flight from the one sender.</summary>
    public int[] FanOutWindows { get; init; } = [1, 16];

    /// <summary>f) How long each system's room sends before any block, per window and round.</summary>
    public TimeSpan FanOutWarmup { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>f) How long the <c>single</c> command's fan-out measures.</summary>
    public TimeSpan FanOutMeasure { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>f) Cycles per window and round; each cycle runs one block of each system, in an order that rotates.</summary>
    public int FanOutCycles { get; init; } = 3;

    /// <summary>f) A block's start, not counted: the sender refills its window.</summary>
    public TimeSpan FanOutBlockWarmup { get; init; } = TimeSpan.FromMilliseconds(300);

    /// <summary>f) How long a block counts deliveries.</summary>
    public TimeSpan FanOutBlock { get; init; } = TimeSpan.FromSeconds(1.5);

    /// <summary>g) Rooms of four clients each (Wevis); c) among as many clients in one room is the baseline.</summary>
    public int RoomsOfFour { get; init; } = 1_000;

    /// <summary>e) Idle logged-in Wevis clients.</summary>
    public int IdleClients { get; init; } = 10_000;

    /// <summary>e) Logins in progress at once.</summary>
    public int LoginConcurrency { get; init; } = 200;

    /// <summary>How long a server process may live before it stops by itself.</summary>
    public TimeSpan ServerLifetime { get; init; } = TimeSpan.FromMinutes(10);

    public static LoadTestSettings Full { get; } = new();

    public static LoadTestSettings QuickRun { get; } = new()
    {
        Quick = true,
        Rounds = 1,
        LatencyCycles = 2,
        BlockSize = 200,
        LatencyWarmup = TimeSpan.FromMilliseconds(300),
        PipelineWarmup = TimeSpan.FromMilliseconds(300),
        PipelineMeasure = TimeSpan.FromMilliseconds(700),
        ClientsWarmup = TimeSpan.FromMilliseconds(300),
        ClientsMeasure = TimeSpan.FromMilliseconds(700),
        ClientsInstances = 1,
        ClientsCycles = 1,
        ClientsBlockWarmup = TimeSpan.FromMilliseconds(100),
        ClientsBlock = TimeSpan.FromMilliseconds(500),
        FanOutClients = [10, 100],
        FanOutWarmup = TimeSpan.FromMilliseconds(300),
        FanOutMeasure = TimeSpan.FromMilliseconds(700),
        FanOutCycles = 1,
        FanOutBlockWarmup = TimeSpan.FromMilliseconds(100),
        FanOutBlock = TimeSpan.FromMilliseconds(500),
        RoomsOfFour = 25,
        IdleClients = 300,
        ServerLifetime = TimeSpan.FromMinutes(2),
    };
}
