using System.Globalization;
using System.Text.RegularExpressions;
using BenNevis;
using BenNevis.Messages;
using Wevis.Testing;
using Wevis.Tests.Shared;

namespace Wevis.Samples.Tests;

/// <summary>samples/BenNevis: the map, the room's rules, and bots playing a whole game against a server.</summary>
public partial class BenNevisTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly Terrain Map = Terrain.Generate();

    [Fact]
    public async Task ThreeBotsPlayAGameToItsEndAndAllReceiveTheSameLeaderboard()
    {
        var room = new GameRoom(Map, new GameRules(Players: 3));
        await using Server server = await StartAsync(room);
        using var cancel = new CancellationTokenSource(Timeout);

        GameResult[] results = await Task.WhenAll(new[] { "ann", "ben", "cat" }.Select(
            name => Bot.PlayAsync(name, "127.0.0.1", server.Port, GameRules.DefaultPassword, cancel.Token))).Within(Timeout);

        Assert.Equal(1, room.GamesPlayed);
        IReadOnlyList<Standing> leaderboard = results[0].Leaderboard;
        Assert.All(results, result => Assert.Equal(leaderboard, result.Leaderboard));
        Assert.Equal([1, 2, 3], leaderboard.Select(s => s.Rank));
        Assert.Equal(["ann", "ben", "cat"], leaderboard.Select(s => s.Name).Order());
        Assert.Equal(leaderboard.Select(s => s.Distance).Order(), leaderboard.Select(s => s.Distance));
        foreach (GameResult result in results)
        {
            // Each bot's standing is the server's score of the guess it made, and it found Ben Nevis.
            Standing standing = leaderboard.Single(s => s.Name == result.Player);
            Assert.Equal(Map.DistanceToPeak(result.X, result.Y), standing.Distance, precision: 9);
            Assert.True(standing.Distance < 0.5, $"{result.Player} guessed {standing.Distance} km from the top.");
            Assert.Equal(Map.HeightAt(result.X, result.Y), result.Height, precision: 9);
        }
    }

    [Fact]
    public async Task BotProcessesPlayAGameOnAServerProcess()
    {
        using DotnetProcess server = DotnetProcess.Start(
            [Repository.SampleDll("BenNevis"), "server", "--host", "127.0.0.1", "--port", "0", "--players", "2"]);
        string port = (await server.WaitForOutputAsync(ListeningLine(), Timeout)).Groups["port"].Value;

        using DotnetProcess ann = DotnetProcess.Start([Repository.SampleDll("BenNevis"), "bot", "--host", "127.0.0.1", "--port", port, "--name", "ann"]);
        using DotnetProcess ben = DotnetProcess.Start([Repository.SampleDll("BenNevis"), "bot", "--host", "127.0.0.1", "--port", port, "--name", "ben"]);

        foreach (DotnetProcess bot in new[] { ann, ben })
        {
            Assert.True(await bot.WaitForExitAsync(Timeout) == 0, bot.Transcript);
        }

        // Each bot prints its guess, then the final leaderboard, which both received alike.
        Assert.Matches(@"^ann guessed \(\d+\.\d\d km east, \d+\.\d\d km north\), \d+ m high\.$", ann.Output[0]);
        Assert.Equal("Final leaderboard:", ann.Output[1]);
        Assert.Equal(ann.Output.Skip(1), ben.Output.Skip(1));
        Assert.Equal(2, ann.Output.Count(line => LeaderboardLine().IsMatch(line)));
        await server.WaitForOutputAsync(GameOverLine(), Timeout);
    }

    [Fact]
    public async Task PlayModeRunsAServerAndBotsUntilTheGameIsOver()
    {
        using DotnetProcess play = DotnetProcess.Start([Repository.SampleDll("BenNevis"), "play", "--bots", "3"]);

        Assert.True(await play.WaitForExitAsync(Timeout) == 0, play.Transcript);
        Assert.Matches(@"^3 bot\(s\) are looking for the highest point of a 50 km map on 127\.0\.0\.1:\d+\.$", play.Output[0]);
        // Where the top is comes last, once the game is over, never before.
        string summit = string.Create(CultureInfo.InvariantCulture, $"The highest point is 1345 m at ({Map.Peak.X:0.00} km east, {Map.Peak.Y:0.00} km north).");
        Assert.Equal(summit, play.Output[^1]);
        string east = string.Create(CultureInfo.InvariantCulture, $"{Map.Peak.X:0.00} km east");
        Assert.Single(play.Output, line => line.Contains(east, StringComparison.Ordinal) && !line.StartsWith("bot", StringComparison.Ordinal));
        Assert.Equal(["bot1", "bot2", "bot3"], play.Output.Select(line => LeaderboardLine().Match(line)).Where(m => m.Success).Select(m => m.Groups["name"].Value).Order());
    }

    [Fact]
    public async Task EveryGuessSendsTheStandingsSoFarToEveryoneInTheRoom()
    {
        await using InMemoryServer server = StartInMemory(new GameRoom(Map, new GameRules(Players: 2)));
        await using Client watcher = await ConnectAsync(server, "watcher");
        await using Client player = await ConnectAsync(server, "player");

        player.Send(new Guess(Map.Peak.X + 3, Map.Peak.Y + 4));

        foreach (Client client in new[] { watcher, player })
        {
            Assert.Equal(new Leaderboard(1, false), await client.ReceiveAsync<Leaderboard>().Within());
            Standing standing = await client.ReceiveAsync<Standing>().Within();
            Assert.Equal(new Standing(1, "player", 5), standing with { Distance = Math.Round(standing.Distance, 9) });
        }
    }

    [Fact]
    public async Task TheLastGuessEndsTheGameAndANewOneStarts()
    {
        var room = new GameRoom(Map, new GameRules(Players: 2, Budget: 10));
        await using InMemoryServer server = StartInMemory(room);
        await using Client first = await ConnectAsync(server, "first");
        await using Client second = await ConnectAsync(server, "second");

        first.Send(new HeightsAt(new float[10], new float[10]));
        Assert.Equal(0, (await first.ReceiveAsync<Heights>().Within()).Remaining);
        first.Send(new Guess(Map.Peak.X, Map.Peak.Y));
        Assert.Equal(new Leaderboard(1, false), await first.ReceiveAsync<Leaderboard>().Within());
        Assert.Equal("first", (await first.ReceiveAsync<Standing>().Within()).Name);

        // Only once the first guess is in (the two clients' messages are not ordered with each other).
        second.Send(new Guess(0, 0));
        Assert.Equal(new Leaderboard(2, true), await first.ReceiveAsync<Leaderboard>().Within());
        Assert.Equal(new Standing(1, "first", 0), await first.ReceiveAsync<Standing>().Within());
        Assert.Equal("second", (await first.ReceiveAsync<Standing>().Within()).Name);
        Assert.Equal(new NewGame(Map.Size, 10, 2), await first.ReceiveAsync<NewGame>().Within());
        Assert.Equal(1, room.GamesPlayed);

        // The new game gives back the budget and a guess.
        first.Send(new HeightAt(1, 1));
        Assert.Equal(new Height(1, 1, Map.HeightAt(1, 1)), await first.ReceiveAsync<Height>().Within());
    }

    [Fact]
    public async Task RequestsOutsideTheRulesAreRefusedWithAReason()
    {
        await using InMemoryServer server = StartInMemory(new GameRoom(Map, new GameRules(Players: 2, Budget: 5)));
        await using Client player = await ConnectAsync(server, "player");

        player.Send(new HeightsAt(new float[6], new float[6]));
        Assert.Equal(new Refused("Asked for 6 heights with 5 left in your budget."), await player.ReceiveAsync().Within());
        player.Send(new HeightsAt(new float[2], new float[3]));
        Assert.Equal(new Refused("Asked for 2 x and 3 y coordinates; give one of each per point."), await player.ReceiveAsync().Within());
        player.Send(new HeightAt(double.NaN, 1));
        Assert.Equal(new Refused("(NaN, 1) is not on the map, which runs from 0 to 50 km each way."), await player.ReceiveAsync().Within());
        player.Send(new HeightsAt([1, 2, 51], [1, 2, 3]));
        Assert.IsType<Refused>(await player.ReceiveAsync().Within());

        // Nothing refused was charged: the whole budget is still there.
        player.Send(new HeightsAt(new float[5], new float[5]));
        Assert.Equal(0, (await player.ReceiveAsync<Heights>().Within()).Remaining);

        player.Send(new Guess(1, 1));
        Assert.IsType<Leaderboard>(await player.ReceiveAsync().Within());
        Assert.IsType<Standing>(await player.ReceiveAsync().Within());
        player.Send(new Guess(2, 2));
        Assert.Equal(new Refused("You have already guessed in this game."), await player.ReceiveAsync().Within());
    }

    [Fact]
    public async Task AWrongGamePasswordIsRejected()
    {
        await using Server server = await StartAsync(new GameRoom(Map, new GameRules()));

        LoginRejectedException ex = await Assert.ThrowsAsync<LoginRejectedException>(
            () => Bot.PlayAsync("intruder", "127.0.0.1", server.Port, "guess")).Within();

        Assert.Equal("Wrong game password.", ex.Reason);
    }

    [Fact]
    public void TheMapHasOneHighestPeakOnBenNevis()
    {
        Assert.Equal(Terrain.PeakHeight, Map.Peak.Height, precision: 3);
        Assert.True(Map.DistanceToPeak(Map.Summit.X, Map.Summit.Y) < 1, "The highest point is not on the Ben Nevis mountain.");

        // Every other top (a sample higher than its eight neighbours) more than a km away is well below it.
        double secondHighest = 0;
        for (int row = 1; row < Map.SamplesPerSide - 1; row++)
        {
            for (int column = 1; column < Map.SamplesPerSide - 1; column++)
            {
                double height = Map.Sample(column, row);
                bool isTop = Enumerable.Range(-1, 3).All(dy => Enumerable.Range(-1, 3).All(
                    dx => (dx == 0 && dy == 0) || Map.Sample(column + dx, row + dy) < height));
                if (isTop && Map.DistanceToPeak(column * Map.Spacing, row * Map.Spacing) > 1)
                {
                    secondHighest = Math.Max(secondHighest, height);
                }
            }
        }

        Assert.InRange(secondHighest, 1, Terrain.PeakHeight - 300);
    }

    [Fact]
    public void TheSameSeedMakesTheSameMap()
    {
        Terrain again = Terrain.Generate(Terrain.DefaultSeed);
        Terrain other = Terrain.Generate(Terrain.DefaultSeed + 1);

        Assert.Equal(Map.Peak, again.Peak);
        Assert.Equal(Map.HeightAt(12.34, 43.21), again.HeightAt(12.34, 43.21));
        Assert.NotEqual(Map.Peak, other.Peak);
    }

    [Fact]
    public void HeightsBetweenSamplesAreInterpolated()
    {
        double spacing = Map.Spacing;
        double southWest = Map.Sample(10, 20), southEast = Map.Sample(11, 20), northWest = Map.Sample(10, 21);

        Assert.Equal(southWest, Map.HeightAt(10 * spacing, 20 * spacing), precision: 6);
        Assert.Equal((southWest + southEast) / 2, Map.HeightAt(10.5 * spacing, 20 * spacing), precision: 6);
        Assert.Equal((southWest + northWest) / 2, Map.HeightAt(10 * spacing, 20.5 * spacing), precision: 6);
        Assert.Equal(Map.Sample(Map.SamplesPerSide - 1, Map.SamplesPerSide - 1), Map.HeightAt(Map.Size, Map.Size), precision: 6);
        Assert.Throws<ArgumentOutOfRangeException>(() => Map.HeightAt(-0.1, 1));
    }

    [GeneratedRegex(@"Wevis server listening on 127\.0\.0\.1:(?<port>\d+) ")]
    private static partial Regex ListeningLine();

    [GeneratedRegex(@"^ +\d\. (?<name>\S+) +\d+\.\d\d km from the top$")]
    private static partial Regex LeaderboardLine();

    [GeneratedRegex(@"Game 1 is over; (ann|ben) won$")]
    private static partial Regex GameOverLine();

    private static async Task<Server> StartAsync(GameRoom room)
    {
        var server = new Server(GameRules.Login(GameRules.DefaultPassword), room, new ServerOptions
        {
            Host = "127.0.0.1",
            Port = 0,
            Messages = BenNevis.WevisRegistry.Messages,
        });
        await server.StartAsync().Within();
        return server;
    }

    /// <summary>The game's server in memory (Wevis.Testing), for tests of the room's rules rather than of the network.</summary>
    private static InMemoryServer StartInMemory(GameRoom room) =>
        InMemoryServer.Start(GameRules.Login(GameRules.DefaultPassword), room, new ServerOptions { Messages = BenNevis.WevisRegistry.Messages });

    private static async Task<Client> ConnectAsync(InMemoryServer server, string name)
    {
        Client client = server.CreateClient(name, GameRules.DefaultPassword, GameRules.Version, new ClientOptions { Messages = BenNevis.WevisRegistry.Messages });
        await client.ConnectAsync().Within();
        await client.ReceiveAsync<NewGame>().Within();
        return client;
    }
}
