using System.Diagnostics;
using Wevis.LoadTest.Driver;
using Wevis.LoadTest.Servers;

// dotnet run -c Release --project bench/Wevis.LoadTest [-- --quick] [-- --out DIR] [-- --rounds N] [-- --idle N] [-- --only abcdefg]
// dotnet run -c Release --project bench/Wevis.LoadTest -- resume [--quick]: sequenced delivery on vs off, resume time.
// Internally: serve <system> [--port N] [--lifetime SECONDS] [--group N] runs one system's server (see ServeCommand).
// For profiling: single <system> <rtt|pipelined|clients> [--seconds N] runs one scenario (see SingleScenario).
if (args is ["serve", string name, .. string[] serveOptions])
{
    if (!SystemNames.TryParse(name, out SystemKind system))
    {
        Console.Error.WriteLine($"Unknown system '{name}': raw, wevis, signalr or grpc.");
        return 2;
    }

    int port = int.Parse(Option(serveOptions, "--port") ?? "0");
    TimeSpan lifetime = TimeSpan.FromSeconds(int.Parse(Option(serveOptions, "--lifetime") ?? "600"));
    return await ServeCommand.RunAsync(system, port, lifetime, int.Parse(Option(serveOptions, "--group") ?? "0"));
}

if (args is ["single", string singleName, string scenario, .. string[] singleOptions] && SystemNames.TryParse(singleName, out SystemKind singleSystem))
{
    return await SingleScenario.RunAsync(singleSystem, scenario, TimeSpan.FromSeconds(int.Parse(Option(singleOptions, "--seconds") ?? "10")));
}

LoadTestSettings settings = args.Contains("--quick") ? LoadTestSettings.QuickRun : LoadTestSettings.Full;
if (args is ["resume", ..])
{
    // Issue 15: a)-c) with sequenced delivery on against off, and the resume time (Driver/SequencingScenarios.cs).
    string resumeReport = await new SequencingScenarios(settings, Console.Out).RunAsync();
    string resumeOutput = Option(args, "--out") ?? DefaultOutput(settings.Quick);
    Directory.CreateDirectory(resumeOutput);
    string resumeFile = Path.Combine(resumeOutput, $"resume-{DateTime.UtcNow:yyyyMMdd-HHmmss}{(settings.Quick ? "-quick" : string.Empty)}.md");
    await File.WriteAllTextAsync(resumeFile, resumeReport);
    Console.WriteLine(resumeReport);
    Console.WriteLine($"Written to {resumeFile}");
    return 0;
}

if (Option(args, "--rounds") is { } rounds)
{
    settings = settings with { Rounds = int.Parse(rounds) };
}

if (Option(args, "--only") is { } only)
{
    settings = settings with { Only = only };
}

if (Option(args, "--idle") is { } idleClients)
{
    settings = settings with { IdleClients = int.Parse(idleClients) };
}

string output = Option(args, "--out") ?? DefaultOutput(settings.Quick);
Directory.CreateDirectory(output);

// Everything is bounded: a run that has not finished by then is stopped.
TimeSpan runLimit = settings.Quick ? TimeSpan.FromMinutes(3) : TimeSpan.FromMinutes(25);
using var watchdog = new Timer(_ =>
{
    Console.Error.WriteLine($"The load test did not finish within {runLimit.TotalMinutes} minutes; stopping.");
    Environment.Exit(4);
}, null, runLimit, Timeout.InfiniteTimeSpan);

string loadBefore = LoadAverage();
var results = new RunResults();
long started = Stopwatch.GetTimestamp();
await new Scenarios(settings, results, Console.Out).RunAsync();
TimeSpan duration = Stopwatch.GetElapsedTime(started);
string report = Report.Build(settings, results, loadBefore, LoadAverage(), duration);

string file = Path.Combine(output, $"loadtest-{DateTime.UtcNow:yyyyMMdd-HHmmss}{(settings.Quick ? "-quick" : string.Empty)}.md");
await File.WriteAllTextAsync(file, report);
Console.WriteLine();
Console.WriteLine(report);
Console.WriteLine($"Written to {file}");
return 0;

static string? Option(string[] args, string name)
{
    int index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}

static string LoadAverage()
{
    try
    {
        return string.Join(", ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
    }
    catch (IOException)
    {
        return "unknown";
    }
}

static string DefaultOutput(bool quick)
{
    // bench/results in the repository for full runs; quick runs (CI) go to artifacts/, which git ignores.
    DirectoryInfo? directory = new(Environment.CurrentDirectory);
    while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Wevis.sln")))
    {
        directory = directory.Parent;
    }

    string root = directory?.FullName ?? Environment.CurrentDirectory;
    return quick ? Path.Combine(root, "artifacts", "loadtest") : Path.Combine(root, "bench", "results");
}
