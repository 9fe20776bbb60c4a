namespace BenNevis.Matches;

/// <summary>How a match is played (see README.md, "The rules").</summary>
public sealed record MatchRules
{
    /// <summary>The rules used unless told otherwise.</summary>
    public static MatchRules Default { get; } = new();

    /// <summary>Evaluations each player may spend in a match: a height costs 1, a height with its gradient more.</summary>
    public int Budget { get; init; } = 1000;

    /// <summary>Evaluations a gradient costs on top of its height's 1 (finite differences would cost 2 or more).</summary>
    public int GradientCost { get; init; } = 1;

    /// <summary>How long a match lasts at most, from its start; after that no query is answered.</summary>
    public TimeSpan TimeLimit { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>The most points one batch may ask for.</summary>
    public int MaxBatch { get; init; } = 10_000;

    /// <summary>Throws if a setting is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Budget, 1, nameof(Budget));
        ArgumentOutOfRangeException.ThrowIfNegative(GradientCost, nameof(GradientCost));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(TimeLimit, TimeSpan.Zero, nameof(TimeLimit));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBatch, 1, nameof(MaxBatch));
    }
}
