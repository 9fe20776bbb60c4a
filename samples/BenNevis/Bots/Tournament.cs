using BenNevis.Maps;
using BenNevis.Matches;

namespace BenNevis.Bots;

/// <summary>A bot in a tournament: its name and the strategy it plays.</summary>
/// <param name="Name">Its player name.</param>
/// <param name="Strategy">How it searches.</param>
public sealed record Contender(string Name, Strategy Strategy);

/// <summary>
/// Matches between bots run in this process, without a server: each match is a <see cref="Match"/> whose players are
/// bots seated with <see cref="LocalPlayer"/>. The bots take their turns one after another; each one's random numbers
/// come from the tournament's seed, the match and its seat, so a tournament replays exactly.
/// </summary>
public static class Tournament
{
    /// <summary>Plays one match between <paramref name="bots"/> on <paramref name="map"/> and returns how it went.</summary>
    public static async Task<MatchResult> PlayMatchAsync(
        int id, HeightGrid map, MatchRules rules, IReadOnlyList<Contender> bots, ulong seed, TimeProvider time, CancellationToken cancellationToken = default)
    {
        var match = new Match(id, map, rules, [.. bots.Select(bot => bot.Name)], time);
        for (int seat = 0; seat < bots.Count && !match.IsOver; seat++)
        {
            var random = new SplitMix64(seed ^ ((ulong)id * 0x9E3779B97F4A7C15) ^ ((ulong)(seat + 1) * 0xC2B2AE3D27D4EB4F));
            await bots[seat].Strategy.PlayAsync(new LocalPlayer(match, bots[seat].Name), random, cancellationToken);
        }

        match.Tick();
        return match.Result;
    }

    /// <summary>
    /// Plays <paramref name="matches"/> matches on <paramref name="map"/>, the bots dealt into them in turn
    /// (bot i plays in match i mod <paramref name="matches"/>), and records each in <paramref name="leaderboard"/>.
    /// </summary>
    public static async Task<IReadOnlyList<MatchResult>> PlayAsync(
        HeightGrid map, MatchRules rules, IReadOnlyList<Contender> bots, int matches, ulong seed, TimeProvider time, Leaderboard leaderboard,
        int firstMatch = 1, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(matches, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(bots.Count, matches);
        var results = new List<MatchResult>(matches);
        for (int m = 0; m < matches; m++)
        {
            Contender[] seated = [.. bots.Where((_, i) => i % matches == m)];
            MatchResult result = await PlayMatchAsync(firstMatch + m, map, rules, seated, seed, time, cancellationToken);
            leaderboard.Record(result);
            results.Add(result);
        }

        return results;
    }
}
