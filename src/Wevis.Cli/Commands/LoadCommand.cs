using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Wevis.Cli.Definitions;
using Wevis.Cli.Load;

namespace Wevis.Cli.Commands;

/// <summary>
/// <c>wevis load host:port --clients 50 --script script.txt</c>: many clients run a small script of messages at once;
/// a progress display while they run, then a latency table per measured step. Any Wevis server can be load-tested
/// from its own definitions.
/// </summary>
internal static class LoadCommand
{
    public const int Failures = 6;

    public static Command Create()
    {
        var connection = new ConnectionOptions();
        var script = new Option<string>("--script", "-s") { Description = "The script each client runs per iteration (see wevis load --help).", Required = true };
        var clients = new Option<int>("--clients", "-c") { Description = "How many clients run at once.", DefaultValueFactory = _ => 10 };
        var iterations = new Option<int>("--iterations", "-n") { Description = "How many times each client runs the script.", DefaultValueFactory = _ => 100 };
        var userPattern = new Option<string?>("--user-pattern") { Description = "Each client's user name, {0} its number from 0 (user{0}); default: every client is --user." };
        var command = new Command("load", """
            Many clients run a script of messages at once; prints a latency table. The script has one step per line:
              WhatTimeIsIt      send a message (as text)
              expect ItIs       wait for an ItIs; the time since the last send is a latency sample
              sleep 50ms        wait
            """);
        connection.AddTo(command);
        command.Add(script);
        command.Add(clients);
        command.Add(iterations);
        command.Add(userPattern);
        command.SetAction((parse, cancellationToken) => RunAsync(parse, connection, script, clients, iterations, userPattern, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(
        ParseResult parse, ConnectionOptions connection, Option<string> scriptOption, Option<int> clientsOption, Option<int> iterationsOption, Option<string?> userPatternOption, CancellationToken cancellationToken)
    {
        TextWriter output = parse.InvocationConfiguration.Output;
        TextWriter error = parse.InvocationConfiguration.Error;
        int clients = parse.GetValue(clientsOption);
        int iterations = parse.GetValue(iterationsOption);
        string? userPattern = parse.GetValue(userPatternOption);
        LoadRunner runner;
        try
        {
            if (clients is < 1 or > 20_000 || iterations < 1)
            {
                throw new UsageException("--clients must be from 1 to 20000 and --iterations at least 1.");
            }

            if (userPattern is not null)
            {
                CheckUserPattern(userPattern);
            }

            LoadedDefinitions definitions = connection.LoadDefinitions(parse, error);
            string path = parse.GetValue(scriptOption)!;
            LoadScript script = LoadScript.Parse(File.Exists(path) ? await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false) : throw new UsageException($"The script {Path.GetFullPath(path)} does not exist."), definitions);
            string password = connection.ReadPassword(parse);
            connection.CreateClient(parse, definitions, password).Dispose(); // the target, checked once before the run
            runner = new LoadRunner(
                script,
                i => connection.CreateClient(parse, definitions, password, userPattern is null ? null : string.Format(CultureInfo.InvariantCulture, userPattern, i)),
                clients,
                iterations,
                connection.TimeoutOf(parse));
        }
        catch (Exception ex) when (ex is UsageException or FormatException)
        {
            error.WriteLine(ex.Message);
            return ExitCodes.Usage;
        }

        LoadReport report = await RunWithProgressAsync(runner, cancellationToken).ConfigureAwait(false);
        if (parse.GetValue(connection.Json))
        {
            output.WriteLine(JsonSerializer.Serialize(new
            {
                clients = report.Clients,
                iterations = report.Iterations,
                seconds = report.Elapsed.TotalSeconds,
                roundTripsPerSecond = report.RoundTripsPerSecond,
                steps = report.Rows.Select(r => new { step = r.Step, count = r.Count, meanMs = r.Mean, p50Ms = r.P50, p90Ms = r.P90, p99Ms = r.P99, maxMs = r.Max }),
                failures = report.Failures,
            }));
        }
        else
        {
            PrintTable(report, output);
        }

        return report.FailedClients == 0 ? ExitCodes.Success : Failures;
    }

    /// <summary>Checks once, before the run, that every client's name can be made from <paramref name="pattern"/>.</summary>
    /// <exception cref="UsageException">It is not a composite format with at most the item {0}.</exception>
    private static void CheckUserPattern(string pattern)
    {
        try
        {
            _ = string.Format(CultureInfo.InvariantCulture, pattern, 0);
        }
        catch (FormatException)
        {
            throw new UsageException($"--user-pattern {pattern}: not a pattern of user names; write {{0}} where each client's number goes (user{{0}}), and {{{{ or }}}} for a brace.");
        }
    }

    private static async Task<LoadReport> RunWithProgressAsync(LoadRunner runner, CancellationToken cancellationToken)
    {
        Task<LoadReport> running = runner.RunAsync(cancellationToken);
        if (!AnsiConsole.Profile.Capabilities.Interactive || Console.IsOutputRedirected)
        {
            return await running.ConfigureAwait(false);
        }

        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                ProgressTask task = context.AddTask("iterations", maxValue: runner.IterationsPlanned);
                while (!running.IsCompleted)
                {
                    task.Value = runner.IterationsDone;
                    await Task.WhenAny(running, Task.Delay(100, cancellationToken)).ConfigureAwait(false);
                }

                task.Value = runner.IterationsDone;
            }).ConfigureAwait(false);
        return await running.ConfigureAwait(false);
    }

    private static void PrintTable(LoadReport report, TextWriter output)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = Console.IsOutputRedirected ? AnsiSupport.No : AnsiSupport.Detect });
        var table = new Table().Title($"{report.Clients} client(s) × {report.Iterations} iteration(s) in {report.Elapsed.TotalSeconds:0.00} s: {report.RoundTripsPerSecond:0} round trips/s");
        table.AddColumns("step", "count", "mean ms", "p50 ms", "p90 ms", "p99 ms", "max ms");
        foreach (LatencyRow row in report.Rows)
        {
            table.AddRow(Markup.Escape(row.Step), row.Count.ToString(CultureInfo.InvariantCulture), Ms(row.Mean), Ms(row.P50), Ms(row.P90), Ms(row.P99), Ms(row.Max));
        }

        console.Write(table);
        foreach ((string reason, int count) in report.Failures)
        {
            console.WriteLine($"{count} client(s) failed: {reason}");
        }
    }

    private static string Ms(double value) => value.ToString("0.000", CultureInfo.InvariantCulture);
}
