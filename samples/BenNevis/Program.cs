using System.Globalization;
using System.Net.Sockets;
using BenNevis.Bots;
using BenNevis.Maps;
using BenNevis.Matches;
using BenNevis.Rooms;
using Microsoft.Extensions.Logging;
using Wevis;
using Wevis.Samples;

// Where is Ben Nevis: the game Wevis was written for. Players cannot see the map; they ask the server for heights
// and the one who finds the highest point wins. See README.md beside this file.
const string Usage = """
    Usage:
      BenNevis [play] [--bots 20] [--matches 5] [--budget 1000] [--seconds 120] [--wait 10] [--seed 1345] [--map FILE.asc] [--maps bennevis-maps]
          a server and bots in one process, the bots playing over TCP in --matches matches at once; prints each
          match's result and the path of its SVG map, then the leaderboard
      BenNevis server [--host localhost] [--port 12121] [--password bennevis] [--players 4] [--wait 10] [--budget 1000]
                      [--seconds 120] [--seed 1345] [--map FILE.asc] [--maps bennevis-maps]
          a server that runs until Ctrl+C; a match starts when --players have joined, or --wait seconds after its first
      BenNevis bot [--host localhost] [--port 12121] [--password bennevis] [--name bot] [--kind global] [--seed 1]
          one bot (random, local or global) that plays a match on a server and prints the result and the leaderboard
      BenNevis cluster [--nodes 3] [--bots 12] [--matches 3] [--budget 1000] [--seconds 120] [--wait 10] [--seed 1345] [--map FILE.asc] [--maps bennevis-maps]
          as play, on a cluster: --nodes Orleans silos in this process (localhost clustering), each a Wevis gateway;
          the bots connect to the gateways in turn, and each match is a grain on whichever silo Orleans picks
      BenNevis tournament [--bots 20] [--matches 5] [--budget 1000] [--seed 1345] [--map FILE.asc] [--maps bennevis-maps]
          the same bots play matches in this process, without a server or a network
    """;

string mode = args.Length > 0 && !args[0].StartsWith('-') ? args[0] : "play";
string[] rest = args.Length > 0 && !args[0].StartsWith('-') ? args[1..] : args;
try
{
    return mode switch
    {
        "play" => await PlayAsync(CommandLine.Parse(rest, ["--bots", "--matches", "--budget", "--seconds", "--wait", "--seed", "--map", "--maps"])),
        "cluster" => await PlayOnClusterAsync(CommandLine.Parse(rest, ["--nodes", "--bots", "--matches", "--budget", "--seconds", "--wait", "--seed", "--map", "--maps"])),
        "server" => Serve(CommandLine.Parse(rest, ["--host", "--port", "--password", "--players", "--wait", "--budget", "--seconds", "--seed", "--map", "--maps"])),
        "bot" => await RunBotAsync(CommandLine.Parse(rest, ["--host", "--port", "--password", "--name", "--kind", "--seed"])),
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
catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
{
    // A map file that cannot be read, or a maps folder that cannot be made.
    Console.Error.WriteLine(ex.Message);
    return 1;
}

static async Task<int> PlayAsync(CommandLine options)
{
    int bots = options.GetInt("--bots", 20, min: 1, max: 1000);
    int matches = options.GetInt("--matches", 5, min: 1, max: bots);
    int players = (bots + matches - 1) / matches;
    string maps = options.Get("--maps", "bennevis-maps");
    var settings = new MatchSettings(LoadMap(options))
    {
        Rules = Rules(options),
        Players = players,
        StartWait = options.GetSeconds("--wait", TimeSpan.FromSeconds(10)),
        MapsFolder = maps,
    };
    var history = new MatchHistory();
    await using Server server = GameServer.Create(settings, history, new ServerOptions { Host = "127.0.0.1", Port = 0 });
    await server.StartAsync();
    Console.WriteLine(Invariant(
        $"{bots} bots play {(bots + players - 1) / players} match(es) of up to {players} on a {settings.Map.Width:0} x {settings.Map.Length:0} km map, {settings.Rules.Budget} evaluations each, on a server at {server.EndPoint}."));
    await PlayMatchesAsync(bots, [server.Port], history);
    return 0;
}

static async Task<int> PlayOnClusterAsync(CommandLine options)
{
    int nodes = options.GetInt("--nodes", 3, min: 1, max: 16);
    int bots = options.GetInt("--bots", 12, min: 1, max: 1000);
    int matches = options.GetInt("--matches", 3, min: 1, max: bots);
    int players = (bots + matches - 1) / matches;
    var settings = new MatchSettings(LoadMap(options))
    {
        Rules = Rules(options),
        Players = players,
        StartWait = options.GetSeconds("--wait", TimeSpan.FromSeconds(10)),
        MapsFolder = options.Get("--maps", "bennevis-maps"),
    };
    var history = new MatchHistory();
    IReadOnlyList<Microsoft.Extensions.Hosting.IHost> silos = await GameCluster.StartLocalAsync(nodes, settings, history);
    try
    {
        int[] ports = [.. silos.Select(GameCluster.GatewayPort)];
        Console.WriteLine(Invariant(
            $"{bots} bots play {(bots + players - 1) / players} match(es) of up to {players} on a {settings.Map.Width:0} x {settings.Map.Length:0} km map, {settings.Rules.Budget} evaluations each, on a cluster of {nodes} silos with gateways at 127.0.0.1:{string.Join(", ", ports)}."));
        await PlayMatchesAsync(bots, ports, history);
    }
    finally
    {
        await GameCluster.StopAsync(silos);
    }

    return 0;
}

// Bots connect to the gateways in turn (one server: its port), play, and the results are printed once all are over.
static async Task PlayMatchesAsync(int bots, int[] ports, MatchHistory history)
{
    // Seated one after another, so that the same bots meet in the same matches on every run; they play all at once.
    var playing = new List<Task<MatchReport>>();
    for (int i = 0; i < bots; i++)
    {
        string kind = Strategy.Kinds[i % Strategy.Kinds.Count];
        var seated = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        playing.Add(NetworkBot.PlayAsync($"{kind}{(i / Strategy.Kinds.Count) + 1}", kind, (ulong)i + 1, "127.0.0.1", ports[i % ports.Length], seated: seated));
        await seated.Task;
    }

    await Task.WhenAll(playing);

    // Printed once every match is over: all are played on one map, so one match's summit would tell another's.
    var finished = new List<FinishedMatch>();
    while (finished.Count < history.Started)
    {
        finished.Add(await history.Finished.ReadAsync());
    }

    foreach (FinishedMatch match in finished.OrderBy(m => m.Result.Match))
    {
        Console.WriteLine(MatchProtocol.Describe(match.Result));
        Console.WriteLine($"Map: {match.MapPath ?? "(not written: see the log)"}");
    }

    PrintLeaderboard(history.Leaderboard());
}

static int Serve(CommandLine options)
{
    string host = options.Get("--host", "localhost");
    int port = options.GetInt("--port", ServerOptions.DefaultPort, min: 0, max: 65535);
    var settings = new MatchSettings(LoadMap(options))
    {
        Rules = Rules(options),
        Players = options.GetInt("--players", 4, min: 1, max: 1000),
        StartWait = options.GetSeconds("--wait", TimeSpan.FromSeconds(10)),
        MapsFolder = options.Get("--maps", "bennevis-maps"),
    };

    using ILoggerFactory logging = LoggerFactory.Create(builder => builder.AddSimpleConsole(console => console.SingleLine = true));
    Server server = GameServer.Create(
        settings, new MatchHistory(), new ServerOptions { Host = host, Port = port, LoggerFactory = logging }, options.Get("--password", GameServer.DefaultPassword));
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
    string name = options.Get("--name", "bot");
    string kind = options.Get("--kind", "global");
    if (!Strategy.Kinds.Contains(kind))
    {
        throw new CommandLineException($"--kind must be one of {string.Join(", ", Strategy.Kinds)}, not '{kind}'.");
    }

    try
    {
        MatchReport report = await NetworkBot.PlayAsync(
            name,
            kind,
            (ulong)options.GetInt("--seed", 1, min: 0),
            options.Get("--host", "localhost"),
            options.GetInt("--port", ServerOptions.DefaultPort, min: 1, max: 65535),
            options.Get("--password", GameServer.DefaultPassword));
        var over = report.Over;
        Console.WriteLine(Invariant($"Match {over.Match} is over ({over.Reason}); the summit is {over.SummitMetres:0} m at ({over.SummitX:0.0}, {over.SummitY:0.0}) km; {over.Winner} won."));
        foreach (var score in report.Scores)
        {
            Console.WriteLine(Invariant($"{score.Rank,3}. {score.Name,-12} {score.Metres,6:0} m at evaluation {score.EvaluationsToBest} of {score.Evaluations}"));
        }

        PrintLeaderboard([.. report.Leaderboard.Select(row => new BenNevis.Matches.LeaderboardRow(row.Rank, row.Name, row.Matches, row.Wins, row.MeanMetres, row.BestMetres))]);
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

static async Task<int> RunTournamentAsync(CommandLine options)
{
    int bots = options.GetInt("--bots", 20, min: 1, max: 1000);
    int matches = options.GetInt("--matches", 5, min: 1, max: bots);
    var rules = new MatchRules { Budget = options.GetInt("--budget", MatchRules.Default.Budget, min: 1) };
    string maps = options.Get("--maps", "bennevis-maps");
    HeightGrid map = LoadMap(options);
    Directory.CreateDirectory(maps);

    Console.WriteLine(Invariant($"{bots} bots play {matches} match(es) on a {map.Width:0} x {map.Length:0} km map, {rules.Budget} evaluations each."));
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

    PrintLeaderboard(leaderboard.Rows());
    return 0;
}

// The map: a file in the ESRI ASCII grid format (--map), or Great Britain made up from a seed (--seed).
static HeightGrid LoadMap(CommandLine options) =>
    options.Get("--map", string.Empty) is { Length: > 0 } file
        ? EsriAsciiGrid.Read(file)
        : SyntheticBritain.Generate((ulong)options.GetInt("--seed", (int)SyntheticBritain.DefaultSeed, min: 0));

static MatchRules Rules(CommandLine options) => new()
{
    Budget = options.GetInt("--budget", MatchRules.Default.Budget, min: 1),
    TimeLimit = options.GetSeconds("--seconds", MatchRules.Default.TimeLimit),
};

static void PrintLeaderboard(IReadOnlyList<BenNevis.Matches.LeaderboardRow> rows)
{
    Console.WriteLine("Leaderboard:");
    foreach (BenNevis.Matches.LeaderboardRow row in rows)
    {
        Console.WriteLine(Invariant($"{row.Rank,3}. {row.Name,-12} {row.MeanMetres,6:0} m mean, {row.BestMetres,6:0} m best, {row.Wins} of {row.Matches} won"));
    }
}

static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
