using BenNevis.Maps;
using BenNevis.Matches;
using BenNevis.Messages;
using Microsoft.Extensions.Time.Testing;
using Leaderboard = BenNevis.Matches.Leaderboard;

namespace Wevis.Samples.Tests;

/// <summary>samples/BenNevis/Matches: a match's rules, its end, the leaderboard, and the rules in messages.</summary>
public class BenNevisMatchTests
{
    // 5 x 4 samples, 1 km apart: the sea (0 m) in the west, a hill rising to the summit, 900 m at (3, 2).
    private static readonly HeightGrid Hill = new(5, 4, 1,
    [
        0, 10, 20, 30, 10,
        0, 50, 300, 500, 20,
        0, 80, 600, 900, 30,
        0, 0, 100, 200, 40,
    ]);

    private static readonly MatchRules Rules = new() { Budget = 10, GradientCost = 2, TimeLimit = TimeSpan.FromSeconds(60) };

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void AQueryChargesOneEvaluationAndWithTheGradientMore()
    {
        Match match = NewMatch("ann");

        Assert.True(match.TryAsk("ann", 3, 2, gradient: false, out QueryAnswer plain, out _));
        Assert.Equal(new QueryAnswer(3, 2, 900, double.NaN, double.NaN, 9), plain);
        Assert.True(match.TryAsk("ann", 2.5, 1.5, gradient: true, out QueryAnswer sloped, out _));
        Assert.Equal(575, sloped.Metres, 9); // the mean of 300, 500 (south) and 600, 900 (north)
        Assert.Equal((6, 250.0, 350.0), (sloped.Remaining, sloped.East, sloped.North));
        Assert.Equal(6, match.Remaining("ann"));
    }

    [Fact]
    public void ARefusedQueryChargesNothingAndSaysWhy()
    {
        Match match = NewMatch("ann");

        Assert.False(match.TryAsk("ann", 4.5, 1, false, out _, out string? offMap));
        Assert.Equal("(4.5, 1) is not on the map, which runs from 0 to 4 km east (x) and 0 to 3 km north (y).", offMap);
        Assert.False(match.TryAsk("ann", double.NaN, 1, false, out _, out _));
        Assert.False(match.TryAskMany("ann", [1, 2], [1], out _, out string? uneven));
        Assert.Equal("Asked for 2 x and 1 y coordinates; give one of each per point.", uneven);
        Assert.False(match.TryAskMany("ann", [1, 2, 9], [1, 2, 3], out _, out string? oneOff));
        Assert.Equal("Point 2: (9, 3) is not on the map, which runs from 0 to 4 km east (x) and 0 to 3 km north (y).", oneOff);
        Assert.False(match.TryAskMany("ann", new double[11], new double[11], out _, out string? tooMany));
        Assert.Equal("Asked for 11 heights (11 evaluations) with 10 left in your budget.", tooMany);

        Assert.Equal(10, match.Remaining("ann"));
        Assert.True(match.TryAskMany("ann", [1, 3], [2, 2], out double[]? metres, out _));
        Assert.Equal([80.0, 900.0], metres);
        Assert.Equal(8, match.Remaining("ann"));

        Assert.True(match.TryAskMany("ann", new double[6], new double[6], out _, out _));
        Assert.False(match.TryAsk("ann", 1, 1, gradient: true, out _, out string? tooDear));
        Assert.Equal("Asked for a height with its gradient (3 evaluations) with 2 left in your budget.", tooDear);
    }

    [Fact]
    public void TheMatchEndsWhenEveryPlayerIsOutOfBudgetDoneOrGone()
    {
        Match match = NewMatch("ann", "ben", "cat");

        Assert.True(match.TryAskMany("ann", new double[10], new double[10], out _, out _)); // ann: out of budget
        match.Finish("ben");
        Assert.False(match.IsOver);
        Assert.False(match.TryAsk("ben", 1, 1, false, out _, out string? afterDone));
        Assert.Equal("You said you were done in this match.", afterDone);

        match.Leave("cat");

        Assert.True(match.IsOver);
        Assert.Equal(MatchEnd.EveryoneDone, match.Result.End);
        Assert.Equal([false, false, true], match.Result.Ranking.OrderBy(p => p.Name).Select(p => p.Left));
        Assert.False(match.TryAsk("ann", 1, 1, false, out _, out string? afterEnd));
        Assert.Equal("Match 1 is over.", afterEnd);
    }

    [Fact]
    public void ALonePlayerPlaysAlone()
    {
        Match match = NewMatch("ann");

        Assert.True(match.TryAsk("ann", 3, 2, false, out _, out _));
        match.Finish("ann");

        Assert.True(match.IsOver);
        Assert.Equal("ann", match.Result.Winner?.Name);
    }

    [Fact]
    public void TheTimeLimitEndsTheMatchOnATickWithoutAnyQuery()
    {
        Match match = NewMatch("ann", "ben");
        Assert.True(match.TryAsk("ann", 1, 1, false, out _, out _));

        _time.Advance(TimeSpan.FromSeconds(59.9));
        match.Tick();
        Assert.False(match.IsOver);
        _time.Advance(TimeSpan.FromSeconds(0.1));
        match.Tick();

        Assert.True(match.IsOver);
        Assert.Equal(MatchEnd.TimeUp, match.Result.End);
        Assert.Equal(TimeSpan.FromSeconds(60), match.Result.Duration);
    }

    [Fact]
    public void AQueryAfterTheDeadlineIsRefusedAndEndsTheMatch()
    {
        Match match = NewMatch("ann");
        _time.Advance(TimeSpan.FromSeconds(61));

        Assert.False(match.TryAsk("ann", 1, 1, false, out _, out string? refusal));

        Assert.Equal("Time is up: match 1 lasted its 60 s.", refusal);
        Assert.True(match.IsOver);
        Assert.Equal(0, match.Result.Ranking.Single().Evaluations); // nothing was charged
    }

    [Fact]
    public void PlayersRankByHeightThenByFewerEvaluationsThenByWhoJoinedFirst()
    {
        Match match = NewMatch("ann", "ben", "cat", "dan", "eve");
        Ask(match, "ann", (1, 1), (3, 2));         // 900 m after 2
        Ask(match, "ben", (3, 2));                 // 900 m after 1
        Ask(match, "cat", (2, 2), (3, 2), (3, 1)); // 900 m after 2, joined after ann
        Ask(match, "dan", (4, 3));                 // 40 m
        foreach (string player in match.Players)
        {
            match.Finish(player);
        }

        IReadOnlyList<PlayerResult> ranking = match.Result.Ranking;

        Assert.Equal(["ben", "ann", "cat", "dan", "eve"], ranking.Select(p => p.Name));
        Assert.Equal([1, 2, 3, 4, 5], ranking.Select(p => p.Rank));
        Assert.Equal(new PlayerResult(3, "cat", new Point(3, 2, 900), 2, 3, false), ranking[2]);
        Assert.Equal(new PlayerResult(5, "eve", null, 0, 0, false), ranking[4]);
        Assert.Equal("ben", match.Result.Winner?.Name);
        Assert.Equal([(1.0, 1.0, 50.0), (3.0, 2.0, 900.0)], match.Result.Trails["ann"].Select(p => (p.X, p.Y, p.Metres)));
    }

    [Fact]
    public void NothingAboutTheSummitIsKnownBeforeTheEnd()
    {
        // 6 x 5 samples 0.7 km apart, all sea but a peak of 777 m at (1.4, 2.1) km: numbers that nothing else here is.
        var heights = new float[30];
        heights[(3 * 6) + 2] = 777;
        heights[(3 * 6) + 1] = 300;
        heights[(2 * 6) + 2] = 100;
        var peak = new HeightGrid(6, 5, 0.7, heights);
        var match = new Match(1, peak, Rules, ["ann", "ben"], _time);

        InvalidOperationException ex = Assert.Throws<InvalidOperationException>(() => match.Result);
        Assert.Equal("Match 1 is not over; its result is not known yet.", ex.Message);

        // Everything the players are sent until the end: the start, answers and refusals. ann asks only away from the
        // peak, so no number in them may be the summit's x, y or height.
        List<IMessage> sent = [MatchProtocol.Started(match)];
        sent.Add(MatchProtocol.Handle(match, "ann", new Ask(0, 0, true))!);
        sent.Add(MatchProtocol.Handle(match, "ann", new AskMany([0, 0.7, 3.5], [0, 0, 0]))!);
        sent.Add(MatchProtocol.Handle(match, "ann", new Ask(-1, 0, false))!);
        sent.Add(MatchProtocol.Handle(match, "ann", new PlayerScore(1, "ann", 0, 0, 0, 0, 0))!);
        Assert.Null(MatchProtocol.Handle(match, "ann", new Done()));
        Assert.False(match.IsOver);
        Point summit = peak.Summit;
        Assert.Equal((1.4, 2.1, 777), (summit.X, Math.Round(summit.Y, 9), summit.Metres));
        foreach (IMessage message in sent)
        {
            Assert.IsNotType<MatchOver>(message);
            Assert.DoesNotContain(NumbersIn(message), n => n == summit.X || n == summit.Y || n == summit.Metres);
        }

        // When ben leaves, the match is over, and the summit is told.
        match.Leave("ben");
        IReadOnlyList<IMessage> over = MatchProtocol.Over(match.Result);
        Assert.Equal(new MatchOver(1, "all done", summit.X, summit.Y, 777, "ann", 2), over[0]);
    }

    [Fact]
    public void TheRulesInMessages()
    {
        Match match = NewMatch("ann", "ben");

        Assert.Equal(new MatchStarted(1, 4, 3, 10, 2, 60, 2), MatchProtocol.Started(match));
        Assert.Equal(new Answer(3, 2, 900, double.NaN, double.NaN, 9), MatchProtocol.Handle(match, "ann", new Ask(3, 2, false)));
        Assert.Equal(new Answers([0, 10], 7), MatchProtocol.Handle(match, "ann", new AskMany([0, 1], [0, 0])));
        Assert.Equal(new Refused("Ask: (9, 9) is not on the map, which runs from 0 to 4 km east (x) and 0 to 3 km north (y)."), MatchProtocol.Handle(match, "ben", new Ask(9, 9, false)));
        Assert.Equal(new Refused("In a match, players send Ask, AskMany or Done, not Play."), MatchProtocol.Handle(match, "ben", new Play()));
        Assert.Null(MatchProtocol.Handle(match, "ann", new Done()));
        Assert.Null(MatchProtocol.Handle(match, "ben", new Done()));

        Assert.Equal<IMessage>(
            [
                new MatchOver(1, "all done", 3, 2, 900, "ann", 2),
                new PlayerScore(1, "ann", 900, 3, 2, 1, 3),
                new PlayerScore(2, "ben", double.NaN, double.NaN, double.NaN, 0, 0),
            ],
            MatchProtocol.Over(match.Result));
    }

    [Fact]
    public void TheLeaderboardAddsUpScoresAcrossMatches()
    {
        var leaderboard = new Leaderboard();
        Match first = NewMatch("ann", "ben");
        Ask(first, "ann", (3, 2)); // 900
        Ask(first, "ben", (2, 2)); // 600
        Finish(first);
        Match second = NewMatch("ann", "ben", "cat");
        Ask(second, "ann", (1, 1)); // 50
        Ask(second, "ben", (3, 1)); // 500
        Finish(second);              // cat asked nothing: 0

        leaderboard.Record(first.Result);
        leaderboard.Record(second.Result);

        Assert.Equal(2, leaderboard.Matches);
        Assert.Equal(
            [
                new BenNevis.Matches.LeaderboardRow(1, "ben", 2, 1, 550, 600),
                new BenNevis.Matches.LeaderboardRow(2, "ann", 2, 1, 475, 900),
                new BenNevis.Matches.LeaderboardRow(3, "cat", 1, 0, 0, 0),
            ],
            leaderboard.Rows());
        Assert.Equal<IMessage>(
            [new LeaderboardTable(3), new BenNevis.Messages.LeaderboardRow(1, "ben", 2, 1, 550, 600), new BenNevis.Messages.LeaderboardRow(2, "ann", 2, 1, 475, 900), new BenNevis.Messages.LeaderboardRow(3, "cat", 1, 0, 0, 0)],
            MatchProtocol.Table(leaderboard.Rows()));
    }

    [Fact]
    public void APlayerOutsideTheMatchIsAnErrorOfTheRoomNotARefusal()
    {
        Match match = NewMatch("ann");

        Assert.Throws<ArgumentException>(() => match.TryAsk("zoe", 1, 1, false, out _, out _));
        Assert.Throws<ArgumentException>(() => NewMatch("ann", "ann"));
        Assert.Throws<ArgumentException>(() => NewMatch());
    }

    private static IEnumerable<double> NumbersIn(IMessage message) =>
        message.GetType().GetProperties().Where(p => p.DeclaringType == message.GetType()).SelectMany(p => p.GetValue(message) switch
        {
            double d => [d],
            int i => [i],
            double[] ds => ds,
            _ => Array.Empty<double>(),
        });

    private static void Ask(Match match, string player, params (double X, double Y)[] points)
    {
        foreach ((double x, double y) in points)
        {
            Assert.True(match.TryAsk(player, x, y, false, out _, out string? refusal), refusal);
        }
    }

    private static void Finish(Match match)
    {
        foreach (string player in match.Players)
        {
            match.Finish(player);
        }
    }

    private Match NewMatch(params string[] players) => new(1, Hill, Rules, players, _time);
}
