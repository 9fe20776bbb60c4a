using System.Text.RegularExpressions;
using System.Xml.Linq;
using Wevis.Tests.Shared;

namespace Wevis.Samples.Tests;

/// <summary>samples/BenNevis as a user runs it: the play mode's bots and server in one process, and a server and bots as processes of their own.</summary>
public partial class BenNevisProgramTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    [Fact]
    public async Task PlayModeRunsBotsInMatchesAtOnceAndPrintsEachMatchWithItsMapAndTheLeaderboard()
    {
        string maps = Path.Combine(Path.GetTempPath(), $"bennevis-maps-{Guid.NewGuid():N}");
        try
        {
            using DotnetProcess play = DotnetProcess.Start(
                [Repository.SampleDll("BenNevis"), "play", "--bots", "6", "--matches", "2", "--budget", "200", "--maps", maps]);

            Assert.True(await play.WaitForExitAsync(Timeout) == 0, play.Transcript);
            IReadOnlyList<string> lines = play.Output;
            Assert.Matches(@"^6 bots play 2 match\(es\) of up to 3 on a 700 x 1300 km map, 200 evaluations each, on a server at 127\.0\.0\.1:\d+\.$", lines[0]);
            for (int match = 1; match <= 2; match++)
            {
                Assert.Matches($@"^Match {match} is over \(all done\); the summit is 1345 m at \(\d+\.\d, \d+\.\d\) km; \w+ won with \d+ m at .* after \d+ evaluations\.$", lines[(2 * match) - 1]);
                string file = Path.Combine(maps, $"match-{match}.svg");
                Assert.Equal($"Map: {file}", lines[2 * match]);
                Assert.Equal(3, XDocument.Load(file).Descendants(Svg + "path").Count(p => (string?)p.Attribute("class") == "queries"));
            }

            // The bots were seated in turn, three to a match, and all six are on the leaderboard.
            Assert.Equal("Leaderboard:", lines[5]);
            Assert.Equal(
                ["global1", "global2", "local1", "local2", "random1", "random2"],
                lines.Skip(6).Select(line => LeaderboardLine().Match(line)).Select(m => m.Groups["name"].Value).Order());
            Assert.Equal(12, lines.Count);
        }
        finally
        {
            if (Directory.Exists(maps))
            {
                Directory.Delete(maps, recursive: true);
            }
        }
    }

    [Fact]
    public async Task ClusterModeRunsThreeSilosAndBotsSpreadOverTheirGatewaysFinishTheirMatches()
    {
        string maps = Path.Combine(Path.GetTempPath(), $"bennevis-maps-{Guid.NewGuid():N}");
        try
        {
            using DotnetProcess cluster = DotnetProcess.Start(
                [Repository.SampleDll("BenNevis"), "cluster", "--nodes", "3", "--bots", "6", "--matches", "2", "--budget", "200", "--maps", maps]);

            Assert.True(await cluster.WaitForExitAsync(TimeSpan.FromSeconds(120)) == 0, cluster.Transcript);
            IReadOnlyList<string> lines = cluster.Output;
            Match first = Regex.Match(lines[0], @"^6 bots play 2 match\(es\) of up to 3 on a 700 x 1300 km map, 200 evaluations each, on a cluster of 3 silos with gateways at 127\.0\.0\.1:(?<ports>\d+, \d+, \d+)\.$");
            Assert.True(first.Success, cluster.Transcript);
            Assert.Equal(3, first.Groups["ports"].Value.Split(", ").Distinct().Count());
            for (int match = 1; match <= 2; match++)
            {
                Assert.Matches($@"^Match {match} is over \(all done\); the summit is 1345 m at \(\d+\.\d, \d+\.\d\) km; \w+ won with \d+ m at .* after \d+ evaluations\.$", lines[(2 * match) - 1]);
                Assert.True(File.Exists(Path.Combine(maps, $"match-{match}.svg")));
            }

            Assert.Equal("Leaderboard:", lines[5]);
            Assert.Equal(
                ["global1", "global2", "local1", "local2", "random1", "random2"],
                lines.Skip(6).Select(line => LeaderboardLine().Match(line)).Select(m => m.Groups["name"].Value).Order());
        }
        finally
        {
            if (Directory.Exists(maps))
            {
                Directory.Delete(maps, recursive: true);
            }
        }
    }

    [Fact]
    public async Task BotProcessesPlayAMatchOnAServerProcessThatTellsTheSummitOnlyAtTheEnd()
    {
        string maps = Path.Combine(Path.GetTempPath(), $"bennevis-maps-{Guid.NewGuid():N}");
        try
        {
            using DotnetProcess server = DotnetProcess.Start(
                [Repository.SampleDll("BenNevis"), "server", "--host", "127.0.0.1", "--port", "0", "--players", "2", "--budget", "200", "--maps", maps]);
            string port = (await server.WaitForOutputAsync(ListeningLine(), Timeout)).Groups["port"].Value;

            using DotnetProcess ann = DotnetProcess.Start([Repository.SampleDll("BenNevis"), "bot", "--host", "127.0.0.1", "--port", port, "--name", "ann", "--kind", "local"]);
            using DotnetProcess ben = DotnetProcess.Start([Repository.SampleDll("BenNevis"), "bot", "--host", "127.0.0.1", "--port", port, "--name", "ben", "--kind", "random"]);
            foreach (DotnetProcess bot in new[] { ann, ben })
            {
                Assert.True(await bot.WaitForExitAsync(Timeout) == 0, bot.Transcript);
            }

            // Both heard the same end: the summit, the scores and the leaderboard.
            Match over = Regex.Match(ann.Output[0], @"^Match 1 is over \(all done\); the summit is 1345 m at (?<place>\(\d+\.\d, \d+\.\d\) km); (ann|ben) won\.$");
            Assert.True(over.Success, ann.Transcript);
            Assert.Equal(ann.Output, ben.Output);
            Assert.Equal(2, ann.Output.Count(line => line.EndsWith(" of 200", StringComparison.Ordinal)));
            Assert.Equal(2, ann.Output.Count(line => LeaderboardLine().IsMatch(line)));

            // The server logged the match's start, then its end (where the summit appears for the first time), then its map.
            string path = Path.Combine(maps, "match-1.svg");
            await server.WaitForOutputAsync(new Regex(Regex.Escape($"Match 1's map: {path}")), Timeout);
            List<string> log = [.. server.Output];
            int started = log.FindIndex(line => line.Contains("Match 1 started in match-1 with 2 player(s)", StringComparison.Ordinal));
            int ended = log.FindIndex(line => line.Contains("Match 1 is over (all done)", StringComparison.Ordinal));
            Assert.True(started >= 0 && ended > started, server.Transcript);
            Assert.Equal(ended, log.FindIndex(line => line.Contains(over.Groups["place"].Value, StringComparison.Ordinal)));
            Assert.Equal(Svg + "svg", XDocument.Load(path).Root!.Name);
        }
        finally
        {
            if (Directory.Exists(maps))
            {
                Directory.Delete(maps, recursive: true);
            }
        }
    }

    [GeneratedRegex(@"Wevis server listening on 127\.0\.0\.1:(?<port>\d+) ")]
    private static partial Regex ListeningLine();

    [GeneratedRegex(@"^ +\d+\. (?<name>\S+) +\d+ m mean, +\d+ m best, \d of \d won$")]
    private static partial Regex LeaderboardLine();
}
