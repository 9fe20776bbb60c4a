using System.Globalization;
using BenNevis.Messages;
using Wevis;

namespace BenNevis.Matches;

/// <summary>
/// The match rules in messages (those of <c>bennevis.wevis</c> after "Matches"): what a player's request does to a
/// <see cref="Match"/> and what goes back. A match room hands every message from a player to <see cref="Handle"/>,
/// sends the reply, and when <see cref="Match.IsOver"/> turns true, sends <see cref="Over"/> to the players and the
/// leaderboard's <see cref="Table"/> to whoever should see it:
/// <code>
/// if (MatchProtocol.Handle(match, connection.User.Name, message) is { } reply) connection.Send(reply);
/// if (match.IsOver &amp;&amp; !announced) { announced = true; foreach (IServerMessage m in MatchProtocol.Over(match.Result)) Broadcast(m); }
/// </code>
/// Before the end nothing here tells anything about the summit: the start says only the map's extent and the rules,
/// and answers say only the heights asked for.
/// </summary>
public static class MatchProtocol
{
    /// <summary>What to send each player when <paramref name="match"/> starts.</summary>
    public static MatchStarted Started(Match match)
    {
        ArgumentNullException.ThrowIfNull(match);
        return Started(match.Opening);
    }

    /// <summary>The <see cref="MatchStarted"/> message of <paramref name="opening"/>.</summary>
    public static MatchStarted Started(MatchOpening opening)
    {
        ArgumentNullException.ThrowIfNull(opening);
        return new MatchStarted(opening.Match, opening.Width, opening.Length, opening.Budget, opening.GradientCost, opening.TimeLimit.TotalSeconds, opening.Players);
    }

    /// <summary>
    /// Carries out <paramref name="player"/>'s <paramref name="message"/> in <paramref name="match"/> and returns the
    /// reply to send them: an <see cref="Answer"/>, <see cref="Answers"/>, or <see cref="Refused"/> with the reason;
    /// null for <see cref="Done"/>, which needs none.
    /// </summary>
    public static IServerMessage? Handle(Match match, string player, IMessage message)
    {
        ArgumentNullException.ThrowIfNull(match);
        ArgumentNullException.ThrowIfNull(message);
        switch (message)
        {
            case Ask ask:
                return match.TryAsk(player, ask.X, ask.Y, ask.Gradient, out QueryAnswer answer, out string? refusal)
                    ? new Answer(answer.X, answer.Y, answer.Metres, answer.East, answer.North, answer.Remaining)
                    : new Refused($"Ask: {refusal}");
            case AskMany many:
                return match.TryAskMany(player, many.Xs, many.Ys, out double[]? metres, out string? manyRefusal)
                    ? new Answers(metres, match.Remaining(player))
                    : new Refused($"AskMany: {manyRefusal}");
            case Done:
                match.Finish(player);
                return null;
            default:
                return new Refused($"In a match, players send Ask, AskMany or Done, not {message.Descriptor.Name}.");
        }
    }

    /// <summary>The <see cref="MatchOpening"/> that <paramref name="started"/> tells of: the other way from <see cref="Started(MatchOpening)"/>.</summary>
    public static MatchOpening Opening(MatchStarted started)
    {
        ArgumentNullException.ThrowIfNull(started);
        return new MatchOpening(started.Match, started.Width, started.Length, started.Budget, started.GradientCost, TimeSpan.FromSeconds(started.Seconds), started.Players);
    }

    /// <summary>What to send the players when the match is over: <see cref="MatchOver"/>, then a <see cref="PlayerScore"/> per player, best first.</summary>
    public static IReadOnlyList<IServerMessage> Over(MatchResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var messages = new List<IServerMessage>(1 + result.Ranking.Count)
        {
            new MatchOver(
                result.Match,
                result.End == MatchEnd.TimeUp ? "time up" : "all done",
                result.Summit.X,
                result.Summit.Y,
                result.Summit.Metres,
                result.Winner?.Name ?? string.Empty,
                result.Ranking.Count),
        };
        foreach (PlayerResult player in result.Ranking)
        {
            messages.Add(new PlayerScore(
                player.Rank,
                player.Name,
                player.Best?.Metres ?? double.NaN,
                player.Best?.X ?? double.NaN,
                player.Best?.Y ?? double.NaN,
                player.EvaluationsToBest,
                player.Evaluations));
        }

        return messages;
    }

    /// <summary>The leaderboard as messages: <see cref="LeaderboardTable"/>, then a <see cref="LeaderboardRow"/> per player, best first.</summary>
    public static IReadOnlyList<IServerMessage> Table(IReadOnlyList<Matches.LeaderboardRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var messages = new List<IServerMessage>(1 + rows.Count) { new LeaderboardTable(rows.Count) };
        foreach (Matches.LeaderboardRow row in rows)
        {
            messages.Add(new Messages.LeaderboardRow(row.Rank, row.Name, row.Matches, row.Wins, row.MeanMetres, row.BestMetres));
        }

        return messages;
    }

    /// <summary>One line for a log or a console: the match's end, the summit and the winner.</summary>
    public static string Describe(MatchResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        string winner = result.Winner is { Best: { } best } w
            ? string.Create(CultureInfo.InvariantCulture, $"{w.Name} won with {best.Metres:0} m at ({best.X:0.0}, {best.Y:0.0}) km after {w.EvaluationsToBest} evaluations")
            : "no one asked anything";
        return string.Create(CultureInfo.InvariantCulture,
            $"Match {result.Match} is over ({(result.End == MatchEnd.TimeUp ? "time up" : "all done")}); the summit is {result.Summit.Metres:0} m at ({result.Summit.X:0.0}, {result.Summit.Y:0.0}) km; {winner}.");
    }
}
