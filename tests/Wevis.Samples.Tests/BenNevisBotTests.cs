using System.Xml.Linq;
using BenNevis.Bots;
using BenNevis.Maps;
using BenNevis.Matches;
using Microsoft.Extensions.Time.Testing;
using Wevis.Tests.Shared;
using Xunit.Abstractions;
using Leaderboard = BenNevis.Matches.Leaderboard;

namespace Wevis.Samples.Tests;

/// <summary>samples/BenNevis/Bots: the three strategies in a tournament, run in this process; and the SVG map of a match.</summary>
public class BenNevisBotTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    [Fact]
    public async Task GlobalBeatsLocalBeatsRandomInMeanScoreAndWinsMostMatchesOnFixedSeeds()
    {
        // 8 maps; on each, 9 bots (3 of each kind) in 3 matches, one of each kind in every match (the tournament seats
        // bot i in match i % 3): 24 scores a kind, and 24 matches in which the three kinds meet.
        var scores = Strategy.Kinds.ToDictionary(kind => kind, _ => new List<double>());
        var leaderboard = new Leaderboard();
        for (ulong seed = 1; seed <= 8; seed++)
        {
            HeightGrid map = SyntheticBritain.Generate(seed, spacing: 1);
            List<Contender> bots = [.. Enumerable.Range(0, 9).Select(i => Strategy.Kinds[i / 3]).Select((kind, i) => new Contender($"{kind}{i % 3}", Strategy.Create(kind)))];
            IReadOnlyList<MatchResult> results = await Tournament.PlayAsync(
                map, MatchRules.Default, bots, matches: 3, seed, new FakeTimeProvider(), leaderboard, firstMatch: (int)seed * 10).WaitAsync(Timeout);

            foreach (PlayerResult player in results.SelectMany(result => result.Ranking))
            {
                Assert.Equal(MatchRules.Default.Budget, player.Evaluations); // Every bot spends its whole budget.
                scores[player.Name[..^1]].Add(player.Best!.Value.Metres);
            }
        }

        double random = scores["random"].Average(), local = scores["local"].Average(), global = scores["global"].Average();
        string table = $"mean scores: random {random:0} m, local {local:0} m, global {global:0} m";
        output.WriteLine(table);
        Assert.True(global > local + 50, table);
        Assert.True(local > random + 50, table);

        // The leaderboard shows it: global bots win most of the matches, local ones more than random ones; of the nine
        // names, global ones lead and random ones trail.
        IReadOnlyList<BenNevis.Matches.LeaderboardRow> rows = leaderboard.Rows();
        Assert.Equal(24, leaderboard.Matches);
        Dictionary<string, int> wins = Strategy.Kinds.ToDictionary(kind => kind, kind => rows.Where(row => row.Name.StartsWith(kind, StringComparison.Ordinal)).Sum(row => row.Wins));
        string won = "wins: " + string.Join(", ", wins.Select(pair => $"{pair.Key} {pair.Value}"));
        output.WriteLine(won);
        Assert.True(wins["global"] > leaderboard.Matches / 2, won);
        Assert.True(wins["local"] > wins["random"], won);
        Assert.True(rows.Take(3).Count(row => row.Name.StartsWith("global", StringComparison.Ordinal)) >= 2, string.Join("\n", rows));
        Assert.True(rows.TakeLast(3).Count(row => row.Name.StartsWith("random", StringComparison.Ordinal)) >= 2, string.Join("\n", rows));
    }

    [Fact]
    public async Task ATournamentReplaysExactlyFromItsSeeds()
    {
        HeightGrid map = SyntheticBritain.Generate(3, spacing: 2);
        Contender[] bots = [.. Strategy.Kinds.Select(kind => new Contender(kind, Strategy.Create(kind)))];

        MatchResult first = await Tournament.PlayMatchAsync(1, map, MatchRules.Default, bots, 42, new FakeTimeProvider()).WaitAsync(Timeout);
        MatchResult again = await Tournament.PlayMatchAsync(1, map, MatchRules.Default, bots, 42, new FakeTimeProvider()).WaitAsync(Timeout);
        MatchResult other = await Tournament.PlayMatchAsync(1, map, MatchRules.Default, bots, 43, new FakeTimeProvider()).WaitAsync(Timeout);

        Assert.Equal(first.Ranking, again.Ranking);
        Assert.All(Strategy.Kinds, kind => Assert.Equal(first.Trails[kind], again.Trails[kind]));
        Assert.NotEqual(first.Trails["random"], other.Trails["random"]);
    }

    [Fact]
    public async Task ABotStopsWhenTheMatchRunsOutOfTime()
    {
        HeightGrid map = SyntheticBritain.Generate(3, spacing: 2);
        var time = new FakeTimeProvider();
        var match = new Match(1, map, MatchRules.Default, ["slow"], time);
        var player = new TimedPlayer(new LocalPlayer(match, "slow"), time, TimeSpan.FromSeconds(1)); // each answer takes a second

        await Strategy.Create("global").PlayAsync(player, new BenNevis.SplitMix64(1)).WaitAsync(Timeout);

        Assert.True(match.IsOver);
        Assert.Equal(MatchEnd.TimeUp, match.Result.End);
        Assert.Equal(119, match.Result.Ranking[0].Evaluations); // asked at 1, 2, … 119 s; at 120 s the time is up
    }

    [Fact]
    public async Task TheMapOfAMatchHasTheTerrainEachPlayersQueriesTheSummitAndTheWinner()
    {
        HeightGrid map = SyntheticBritain.Generate(5, spacing: 2);
        Contender[] bots = [.. Strategy.Kinds.Select(kind => new Contender($"{kind} <bot>", Strategy.Create(kind)))];
        MatchResult result = await Tournament.PlayMatchAsync(7, map, MatchRules.Default with { Budget = 200 }, bots, 1, new FakeTimeProvider()).WaitAsync(Timeout);

        XDocument svg = XDocument.Parse(MatchMap.Render(map, result));

        Assert.Equal(Svg + "svg", svg.Root!.Name);
        Assert.True(svg.Descendants(Svg + "path").Count(p => (string?)p.Attribute("class") == "band") >= 10, "Too few terrain bands.");
        foreach (Contender bot in bots)
        {
            // One set of points per player, a dot ("M x y h0") per query, all on the map.
            XElement queries = Assert.Single(svg.Descendants(Svg + "path"), p => (string?)p.Attribute("class") == "queries" && (string?)p.Attribute("data-player") == bot.Name);
            string[] dots = ((string)queries.Attribute("d")!).Split('M', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(200, dots.Length);
            Assert.All(dots, dot => Assert.EndsWith("h0", dot));
            Assert.Single(svg.Descendants(Svg + "circle"), c => (string?)c.Attribute("class") == "best" && (string?)c.Attribute("data-player") == bot.Name);
        }

        Assert.Equal(3, svg.Descendants(Svg + "path").Where(p => (string?)p.Attribute("class") == "queries").Select(p => (string?)p.Attribute("stroke")).Distinct().Count());
        XElement summit = Assert.Single(svg.Descendants(Svg + "path"), p => (string?)p.Attribute("class") == "summit");
        Assert.StartsWith(FormattableString.Invariant($"M{map.Summit.X * 0.8:0.#} {((map.Length - map.Summit.Y) * 0.8) - 11:0.#}"), (string)summit.Attribute("d")!);
        Assert.Equal($"Winner: {result.Winner!.Name}", svg.Descendants(Svg + "text").Single(t => (string?)t.Attribute("id") == "winner").Value);
    }

    [Fact]
    public async Task TournamentModePrintsEachMatchWithItsMapAndTheLeaderboard()
    {
        string maps = Path.Combine(Path.GetTempPath(), $"bennevis-maps-{Guid.NewGuid():N}");
        try
        {
            using DotnetProcess tournament = DotnetProcess.Start(
                [Repository.SampleDll("BenNevis"), "tournament", "--bots", "6", "--matches", "2", "--budget", "300", "--maps", maps]);

            Assert.True(await tournament.WaitForExitAsync(Timeout) == 0, tournament.Transcript);
            IReadOnlyList<string> lines = tournament.Output;
            Assert.Equal("6 bots play 2 match(es) on a 700 x 1300 km map, 300 evaluations each.", lines[0]);
            Assert.Matches(@"^Match 1 is over \(all done\); the summit is 1345 m at \(\d+\.\d, \d+\.\d\) km; \w+ won with \d+ m at .* after \d+ evaluations\.$", lines[1]);
            string[] files = [.. lines.Where(line => line.StartsWith("Map: ", StringComparison.Ordinal)).Select(line => line["Map: ".Length..])];
            Assert.Equal([Path.Combine(maps, "match-1.svg"), Path.Combine(maps, "match-2.svg")], files);
            Assert.All(files, file => Assert.Equal(Svg + "svg", XDocument.Load(file).Root!.Name));
            int table = lines.ToList().IndexOf("Leaderboard:");
            Assert.Equal(6, lines.Skip(table + 1).Count(line => line.Contains(" m mean, ", StringComparison.Ordinal)));
        }
        finally
        {
            if (Directory.Exists(maps))
            {
                Directory.Delete(maps, recursive: true);
            }
        }
    }

    /// <summary>A seat whose every answer takes <paramref name="delay"/> of fake time, as a slow network would.</summary>
    private sealed class TimedPlayer(IHeightQueries inner, FakeTimeProvider time, TimeSpan delay) : IHeightQueries
    {
        public MatchOpening Opening => inner.Opening;

        public int Remaining => inner.Remaining;

        public ValueTask<QueryAnswer?> AskAsync(double x, double y, bool gradient = false, CancellationToken cancellationToken = default)
        {
            time.Advance(delay);
            return inner.AskAsync(x, y, gradient, cancellationToken);
        }

        public ValueTask FinishAsync(CancellationToken cancellationToken = default) => inner.FinishAsync(cancellationToken);
    }
}
