using BenNevis.Maps;

namespace BenNevis.Matches;

/// <summary>Why a match ended.</summary>
public enum MatchEnd
{
    /// <summary>Every player spent their budget, said they were done, or left.</summary>
    EveryoneDone,

    /// <summary>The time limit passed.</summary>
    TimeUp,
}

/// <summary>How a match went, known once it is over: the summit, revealed now, and the players ranked.</summary>
/// <param name="Match">The match's number.</param>
/// <param name="Summit">The highest point of the map.</param>
/// <param name="End">Why the match ended.</param>
/// <param name="Duration">From the start to the end.</param>
/// <param name="Players">The players, in the order they joined.</param>
/// <param name="Ranking">The players, best first (see <see cref="PlayerResult"/> for the order).</param>
/// <param name="Trails">Every player's answered queries, in the order asked, by name.</param>
public sealed record MatchResult(
    int Match,
    Point Summit,
    MatchEnd End,
    TimeSpan Duration,
    IReadOnlyList<string> Players,
    IReadOnlyList<PlayerResult> Ranking,
    IReadOnlyDictionary<string, IReadOnlyList<Point>> Trails)
{
    /// <summary>The player ranked first; null if no one asked for a height.</summary>
    public PlayerResult? Winner => Ranking.Count > 0 && Ranking[0].Best is not null ? Ranking[0] : null;
}

/// <summary>
/// One player's score in a match: the highest point they found, and how many evaluations they had spent when they
/// first found it. Players rank by height, highest first; on equal heights, by fewer evaluations; then by the order
/// they joined. A player who asked for nothing has no best and ranks after those who did.
/// </summary>
/// <param name="Rank">1 for the winner.</param>
/// <param name="Name">The player's name.</param>
/// <param name="Best">The highest point found; null if none.</param>
/// <param name="EvaluationsToBest">Evaluations spent up to and including the query that found <paramref name="Best"/>.</param>
/// <param name="Evaluations">Evaluations spent in all.</param>
/// <param name="Left">Whether the player left before the end (their score stands).</param>
public sealed record PlayerResult(int Rank, string Name, Point? Best, int EvaluationsToBest, int Evaluations, bool Left);
