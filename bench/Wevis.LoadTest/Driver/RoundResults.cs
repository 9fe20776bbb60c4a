using Wevis.LoadTest.Servers;

namespace Wevis.LoadTest.Driver;

/// <summary>One system's figures from one round.</summary>
internal sealed class SystemRound
{
    public LatencySamples Latency { get; } = new(16 * 1024);

    public double PipelinedPerSecond { get; set; } = double.NaN;

    public double ClientsRoundTripsPerSecond { get; set; } = double.NaN;

    public double ClientsP99Microseconds { get; set; } = double.NaN;

    public long ServerPeakBytes { get; set; }
}

/// <summary>Everything one run measured.</summary>
internal sealed class RunResults
{
    public Dictionary<SystemKind, List<SystemRound>> Rounds { get; } = [];

    /// <summary>a) Per cycle: Wevis block p50 ÷ the adjacent raw block's p50.</summary>
    public List<double> WevisOverRawBlockRatios { get; } = [];

    /// <summary>a) Per cycle: Wevis block p50 ÷ the same cycle's SignalR block p50.</summary>
    public List<double> WevisOverSignalRBlockRatios { get; } = [];

    public IdleResults? Idle { get; set; }

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

/// <summary>e) Wevis with many idle logged-in clients.</summary>
internal sealed record IdleResults(
    int Clients,
    TimeSpan LoginTime,
    long ResidentBefore,
    long ResidentAfterLogin,
    long ResidentAfterCollect,
    double ActiveRoundTripsPerSecond,
    double ActiveP99Microseconds,
    long ServerPeakBytes)
{
    /// <summary>RSS growth over the logins ÷ clients, measured right after the last login.</summary>
    public double BytesPerConnection => (ResidentAfterLogin - ResidentBefore) / (double)Clients;

    /// <summary>The same once the login garbage is collected: what each idle connection keeps.</summary>
    public double BytesPerConnectionCollected => (ResidentAfterCollect - ResidentBefore) / (double)Clients;
}
