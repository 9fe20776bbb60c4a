using System.Globalization;
using System.Net.Sockets;
using BenNevis;
using BenNevis.Bots;
using BenNevis.Maps;
using BenNevis.Matches;
using BenNevis.Messages;
using Microsoft.Extensions.Logging;
using Wevis;
using Wevis.Samples;

// Where is Ben Nevis: the game Wevis was written for. Players cannot see the map; they ask the server for heights
// and guess where the highest point is. See README.md beside this file.
const string Usage = """
    Usage:
      BenNevis [play] [--bots 3] [--seed 1345]
          a server and bots in one process, until the bots have played a game; prints the leaderboard
      BenNevis server [--host localhost] [--port 12121] [--password bennevis] [--players 3] [--budget 1000] [--seed 1345]
          a server that runs until Ctrl+C; a game ends when --players guesses are in
      BenNevis bot [--host localhost] [--port 12121] [--password bennevis] [--name bot]
          one bot that plays a game on a server and prints the final leaderboard
      BenNevis tournament [--bots 20] [--matches 5] [--budget 1000] [--seed 1345] [--map FILE.asc] [--maps bennevis-maps]
          bots of three kinds (random, local, global) play matches on the Great-Britain-sized map in this process,
          without a server; prints each match's result and the SVG map drawn of it, then the leaderboard
    """;

string mode = args.Length > 0 && !args[0].StartsWith('-') ? args[0] : "play";
string[] rest = args.Length > 0 && !args[0].StartsWith('-') ? args[1..] : args;
try
{
    return mode switch
    {
        "play" => await PlayAsync(CommandLine.Parse(rest, ["--bots", "--seed"])),
        "server" => Serve(CommandLine.Parse(rest, ["--host", "--port", "--password", "--players", "--budget", "--seed"])),
        "bot" => await RunBotAsync(CommandLine.Parse(rest, ["--host", "--port", "--password", "--name"])),
        "tournament" => await RunTournamentAsync(CommandLine.Parse(rest, ["--bots", "--matches", "--budget", "--seed", "--map", "--maps"])),
        _ => throw new CommandLineException($"Unknown mode '{mode}'."),
    };
}
catch (CommandLineException ex)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(Usage);
    return 2;
}

static async Task<int> PlayAsync(CommandLine options)
{
    int bots = options.GetInt("--bots", 3, min: 1, max: 50);
    Terrain terrain = Terrain.Generate(Seed(options));
    await using var server = new Server(
        GameRules.Login(GameRules.DefaultPassword),
        new GameRoom(terrain, new GameRules(Players: bots)),
        new ServerOptions { Host = "127.0.0.1", Port = 0, Messages = WevisRegistry.Messages });
    await server.StartAsync();
    Console.WriteLine($"{bots} bot(s) are looking for the highest point of a {terrain.Size:0} km map on {server.EndPoint}.");

    GameResult[] results = await Task.WhenAll(Enumerable.Range(1, bots).Select(
        i => Bot.PlayAsync($"bot{i}", "127.0.0.1", server.Port, GameRules.DefaultPassword)));
    foreach (GameResult result in results)
    {
        Console.WriteLine($"{result.Player} guessed {Place(result.X, result.Y)}, {result.Height:0} m high.");
    }

    PrintLeaderboard(results[0].Leaderboard);
    // Only now that the game is over: where the top was.
    Console.WriteLine($"The highest point is {terrain.Peak.Height:0} m at {Place(terrain.Peak.X, terrain.Peak.Y)}.");
    return 0;
}

static async Task<int> RunTournamentAsync(CommandLine options)
{
    int bots = options.GetInt("--bots", 20, min: 1, max: 1000);
    int matches = options.GetInt("--matches", 5, min: 1, max: bots);
    var rules = new MatchRules { Budget = options.GetInt("--budget", MatchRules.Default.Budget, min: 1) };
    string maps = options.Get("--maps", "bennevis-maps");
    HeightGrid map;
    try
    {
        map = options.Get("--map", string.Empty) is { Length: > 0 } file ? EsriAsciiGrid.Read(file) : SyntheticBritain.Generate((ulong)options.GetInt("--seed", (int)SyntheticBritain.DefaultSeed, min: 0));
        Directory.CreateDirectory(maps);
    }
    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
    {
        Console.Error.WriteLine(ex.Message);
        return 1;
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{bots} bots play {matches} match(es) on a {map.Width:0} x {map.Length:0} km map, {rules.Budget} evaluations each."));
    List<Contender> players = [.. Enumerable.Range(0, bots).Select(i => Strategy.Kinds[i % Strategy.Kinds.Count]).Select((kind, i) => new Contender($"{kind}{(i / Strategy.Kinds.Count) + 1}", Strategy.Create(kind)))];
    var leaderboard = new BenNevis.Matches.Leaderboard();
    IReadOnlyList<MatchResult> results = await Tournament.PlayAsync(map, rules, players, matches, seed: 1, TimeProvider.System, leaderboard);
    foreach (MatchResult result in results)
    {
        string path = Path.GetFullPath(Path.Combine(maps, $"match-{result.Match}.svg"));
        MatchMap.Write(map, result, path);
        Console.WriteLine(MatchProtocol.Describe(result));
        Console.WriteLine($"Map: {path}");
    }

    Console.WriteLine("Leaderboard:");
    foreach (BenNevis.Matches.LeaderboardRow row in leaderboard.Rows())
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{row.Rank,3}. {row.Name,-12} {row.MeanMetres,6:0} m mean, {row.BestMetres,6:0} m best, {row.Wins} of {row.Matches} won"));
    }

    return 0;
}

static int Serve(CommandLine options)
{
    string host = options.Get("--host", "localhost");
    int port = options.GetInt("--port", ServerOptions.DefaultPort, min: 0, max: 65535);
    var rules = new GameRules(options.GetInt("--players", 3, min: 1), options.GetInt("--budget", 1000, min: 1));
    Terrain terrain = Terrain.Generate(Seed(options));

    using ILoggerFactory logging = LoggerFactory.Create(builder => builder.AddSimpleConsole(console => console.SingleLine = true));
    var server = new Server(
        GameRules.Login(options.Get("--password", GameRules.DefaultPassword)),
        new GameRoom(terrain, rules),
        new ServerOptions { Host = host, Port = port, Messages = WevisRegistry.Messages, LoggerFactory = logging });
    try
    {
        server.Launch(); // Logs the address it listens on, then runs until Ctrl+C.
        return 0;
    }
    catch (SocketException ex)
    {
        Console.Error.WriteLine($"Cannot listen on {host}:{port}: {ex.Message}");
        return 1;
    }
}

static async Task<int> RunBotAsync(CommandLine options)
{
    try
    {
        GameResult result = await Bot.PlayAsync(
            options.Get("--name", "bot"),
            options.Get("--host", "localhost"),
            options.GetInt("--port", ServerOptions.DefaultPort, min: 1, max: 65535),
            options.Get("--password", GameRules.DefaultPassword));
        Console.WriteLine($"{result.Player} guessed {Place(result.X, result.Y)}, {result.Height:0} m high.");
        PrintLeaderboard(result.Leaderboard);
        return 0;
    }
    catch (LoginRejectedException ex)
    {
        Console.Error.WriteLine($"Login rejected: {ex.Reason}");
        return 1;
    }
    catch (Exception ex) when (ex is WevisException or InvalidOperationException)
    {
        Console.Error.WriteLine(ex.Message);
        return 1;
    }
}

static ulong Seed(CommandLine options) => (ulong)options.GetInt("--seed", (int)Terrain.DefaultSeed, min: 0);

static string Place(double x, double y) => string.Create(CultureInfo.InvariantCulture, $"({x:0.00} km east, {y:0.00} km north)");

static void PrintLeaderboard(IReadOnlyList<Standing> leaderboard)
{
    Console.WriteLine("Final leaderboard:");
    foreach (Standing standing in leaderboard)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{standing.Rank,3}. {standing.Name,-12} {standing.Distance,8:0.00} km from the top"));
    }
}
