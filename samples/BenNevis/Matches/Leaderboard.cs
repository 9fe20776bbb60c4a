namespace BenNevis.Matches;

/// <summary>
/// The table across matches: for each player, the matches played and won, and their mean score (the height of the
/// best point they found, 0 when they found none). Ranked by mean score, highest first; then by wins, then by more
/// matches played, then by name.
/// </summary>
/// <remarks>Not thread-safe: record results from one thread at a time (the lobby's turn).</remarks>
public sealed class Leaderboard
{
    private readonly Dictionary<string, Tally> _tallies = new(StringComparer.Ordinal);

    /// <summary>How many matches have been recorded.</summary>
    public int Matches { get; private set; }

    /// <summary>Adds a finished match's scores.</summary>
    public void Record(MatchResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        Matches++;
        foreach (PlayerResult player in result.Ranking)
        {
            if (!_tallies.TryGetValue(player.Name, out Tally? tally))
            {
                _tallies[player.Name] = tally = new Tally();
            }

            double metres = player.Best?.Metres ?? 0;
            tally.Matches++;
            tally.Wins += ReferenceEquals(player, result.Winner) ? 1 : 0;
            tally.TotalMetres += metres;
            tally.BestMetres = Math.Max(tally.BestMetres, metres);
        }
    }

    /// <summary>The table, best first.</summary>
    public IReadOnlyList<LeaderboardRow> Rows() =>
        [.. _tallies
            .Select(pair => (Name: pair.Key, Tally: pair.Value, Mean: pair.Value.TotalMetres / pair.Value.Matches))
            .OrderByDescending(row => row.Mean)
            .ThenByDescending(row => row.Tally.Wins)
            .ThenByDescending(row => row.Tally.Matches)
            .ThenBy(row => row.Name, StringComparer.Ordinal)
            .Select((row, k) => new LeaderboardRow(k + 1, row.Name, row.Tally.Matches, row.Tally.Wins, row.Mean, row.Tally.BestMetres))];

    private sealed class Tally
    {
        public int Matches { get; set; }

        public int Wins { get; set; }

        public double TotalMetres { get; set; }

        public double BestMetres { get; set; }
    }
}

/// <summary>One player's line in the <see cref="Leaderboard"/>.</summary>
/// <param name="Rank">1 for the first.</param>
/// <param name="Name">The player.</param>
/// <param name="Matches">Matches played.</param>
/// <param name="Wins">Matches won.</param>
/// <param name="MeanMetres">The mean of their scores, m.</param>
/// <param name="BestMetres">Their highest score, m.</param>
public sealed record LeaderboardRow(int Rank, string Name, int Matches, int Wins, double MeanMetres, double BestMetres);
