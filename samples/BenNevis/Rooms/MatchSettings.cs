using BenNevis.Maps;
using BenNevis.Matches;

namespace BenNevis.Rooms;

/// <summary>How the server runs its matches.</summary>
/// <param name="Map">The map every match is played on.</param>
public sealed record MatchSettings(HeightGrid Map)
{
    /// <summary>The rules of each match: budget, gradient cost, time limit.</summary>
    public MatchRules Rules { get; init; } = MatchRules.Default;

    /// <summary>How many players a match takes; it starts as soon as it has that many.</summary>
    public int Players { get; init; } = 4;

    /// <summary>How long a match waits for players, from when its first player joined; then it starts with whoever is there.</summary>
    public TimeSpan StartWait { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often a match room ticks: the start after the wait and the end at the time limit come on a tick.</summary>
    public TimeSpan TickInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Where each match's SVG map is written (<c>match-N.svg</c>); null: no maps.</summary>
    public string? MapsFolder { get; init; }

    /// <summary>Throws if a setting is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Map);
        ArgumentNullException.ThrowIfNull(Rules);
        Rules.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(Players, 1, nameof(Players));
        ArgumentOutOfRangeException.ThrowIfLessThan(StartWait, TimeSpan.Zero, nameof(StartWait));
        ArgumentOutOfRangeException.ThrowIfLessThan(TickInterval, TimeSpan.FromMilliseconds(1), nameof(TickInterval));
    }
}
