using Wevis.LoadTest.Driver;

namespace Wevis.ClusterBench;

/// <summary>c) One target's figures in one round.</summary>
/// <param name="PerSecond">Round trips per second, all clients together.</param>
/// <param name="P99Microseconds">The 99th percentile of every round trip.</param>
/// <param name="CpuMicroseconds">This process's CPU time per round trip (clients, gateway, silos and server together).</param>
internal sealed record ClientsRound(double PerSecond, double P99Microseconds, double CpuMicroseconds);

/// <summary>Everything measured, by target letter; rounds and cycles are aligned across targets, for paired ratios.</summary>
internal sealed class ClusterResults
{
    /// <summary>a) Every round trip measured, per target.</summary>
    public Dictionary<char, LatencySamples> Latency { get; } = [];

    /// <summary>a) Each cycle's block median, per target (in µs), in cycle order.</summary>
    public Dictionary<char, List<double>> LatencyBlocks { get; } = [];

    /// <summary>c) Each round's figures, per target, in round order.</summary>
    public Dictionary<char, List<ClientsRound>> Clients { get; } = [];

    /// <summary>f) Each round's figures, per room size, messages in flight and target, in round order.</summary>
    public Dictionary<(int Clients, int Window, char Target), List<FanOutFigures>> FanOut { get; } = [];

    /// <summary>Scenarios skipped or changed, said in the report.</summary>
    public List<string> Notes { get; } = [];
}
