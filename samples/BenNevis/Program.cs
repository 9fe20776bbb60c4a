using System.Globalization;
using System.Net.Sockets;
using BenNevis;
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
    Console.WriteLine($"A {terrain.Size:0} km map; its highest point is {terrain.Peak.Height:0} m at {Place(terrain.Peak.X, terrain.Peak.Y)}.");
    Console.WriteLine($"{bots} bot(s) are looking for it on {server.EndPoint}.");

    GameResult[] results = await Task.WhenAll(Enumerable.Range(1, bots).Select(
        i => Bot.PlayAsync($"bot{i}", "127.0.0.1", server.Port, GameRules.DefaultPassword)));
    foreach (GameResult result in results)
    {
        Console.WriteLine($"{result.Player} guessed {Place(result.X, result.Y)}, {result.Height:0} m high.");
    }

    PrintLeaderboard(results[0].Leaderboard);
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
