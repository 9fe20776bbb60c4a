using System.Text.Json;
using Wevis.Tests.Shared;

namespace Wevis.Cli.Tests;

/// <summary>The installed wevis tool against the hosted time server, as a script would use it.</summary>
public sealed class ToolTests(InstalledTool tool) : IClassFixture<InstalledTool>
{
    private static readonly string Definitions = Repository.PathOf("definitions/example.wevis");

    private static readonly Dictionary<string, string?> Michael = new() { ["WEVIS_USER"] = "michael", ["WEVIS_PASSWORD"] = "mypassword" };

    [Fact]
    public async Task SendWithExpectPrintsTheAnswerAsText()
    {
        (int exitCode, DotnetProcess run) = await tool.WevisAsync(Michael, "send", tool.Server, "-d", Definitions, "WhoAmI", "--expect", "YouAre");
        Assert.True(exitCode == 0, run.Transcript);
        Assert.Equal(["YouAre name=\"michael\""], run.Output);
    }

    [Fact]
    public async Task JsonPrintsEachMessageAsAJsonLine()
    {
        (int exitCode, DotnetProcess run) = await tool.WevisAsync(Michael, "send", tool.Server, "-d", Definitions, "PleaseMayIHaveSomeFloats", "singles=2", "doubles=3", "--expect", "SomeFloats", "--json", "--all");
        Assert.True(exitCode == 0, run.Transcript);
        Assert.Equal(2, run.Output.Count);
        using JsonDocument ready = JsonDocument.Parse(run.Output[0]);
        Assert.Equal("ServerReady", ready.RootElement.GetProperty("message").GetString());
        using JsonDocument floats = JsonDocument.Parse(run.Output[1]);
        Assert.Equal("SomeFloats", floats.RootElement.GetProperty("message").GetString());
        Assert.Equal([0, 0.1, 0.2], floats.RootElement.GetProperty("arguments").GetProperty("doubles").EnumerateArray().Select(e => e.GetDouble()));
        Assert.Equal(2, floats.RootElement.GetProperty("arguments").GetProperty("singles").GetArrayLength());
    }

    [Fact]
    public async Task CheckPrintsTheBuildsDiagnosticsForABadFileAndExitsWithOne()
    {
        string bad = Path.Combine(tool.Workspace, "bad.wevis");
        await File.WriteAllTextAsync(bad, "ItIs hours=int\nYouAre name=string\n");
        (int exitCode, DotnetProcess run) = await tool.WevisAsync(null, "check", bad);
        Assert.Equal(1, exitCode);
        Assert.Equal($"{bad}(2,13): error WEVIS001: Unknown type 'string' for argument 'name'; the types are: int, long, float, bool, str, bytes, ?f, ?d", run.Output[0]);
        Assert.Equal("1 error(s), 0 warning(s)", run.Output[^1]);

        (exitCode, run) = await tool.WevisAsync(null, "check", Definitions);
        Assert.True(exitCode == 0, run.Transcript);
        Assert.Equal($"7 message(s), 0 warning(s), no errors; fingerprint {RunTimeMessageTests.GeneratedExample.Fingerprint}", Assert.Single(run.Output));
    }

    [Fact]
    public async Task AWrongPasswordExitsWithThreeAndTheServersReason()
    {
        (int exitCode, DotnetProcess run) = await tool.WevisAsync(
            new Dictionary<string, string?> { ["WEVIS_USER"] = "michael", ["WEVIS_PASSWORD"] = "wrong" },
            "send", tool.Server, "-d", Definitions, "WhoAmI", "--expect", "YouAre");
        Assert.Equal(3, exitCode);
        Assert.Equal(["Login rejected: Unknown user or wrong password."], run.Errors);
        Assert.Empty(run.Output);
    }

    [Fact]
    public async Task ThePasswordIsNeverAnArgumentAndWithoutOneInARedirectedRunTheToolSaysWhereToPutIt()
    {
        (int exitCode, DotnetProcess run) = await tool.WevisAsync(Michael, "send", tool.Server, "-d", Definitions, "WhoAmI", "--password", "mypassword");
        Assert.Equal(1, exitCode);
        Assert.Contains(run.Errors, line => line.Contains("--password", StringComparison.Ordinal));

        (exitCode, run) = await tool.WevisAsync(new Dictionary<string, string?> { ["WEVIS_USER"] = "michael", ["WEVIS_PASSWORD"] = null }, "send", tool.Server, "-d", Definitions, "WhoAmI");
        Assert.Equal(1, exitCode);
        Assert.Equal(["No password: set the environment variable WEVIS_PASSWORD, or use --password-stdin, or run in a terminal to be asked."], run.Errors);
    }

    [Fact]
    public async Task LoadWithFiftyClientsPrintsALatencyTableOfEveryRoundTrip()
    {
        string script = Path.Combine(tool.Workspace, "time.script");
        await File.WriteAllTextAsync(script, "# each client, each iteration\nWhatTimeIsIt\nexpect ItIs\nWhoAmI\nexpect YouAre\n");
        (int exitCode, DotnetProcess run) = await tool.WevisAsync(Michael, "load", tool.Server, "-d", Definitions, "--clients", "50", "--iterations", "20", "--script", script);
        Assert.True(exitCode == 0, run.Transcript);
        Assert.Contains(run.Output, line => line.Contains("50 client(s) × 20 iteration(s)", StringComparison.Ordinal));
        Assert.Contains(run.Output, line => line.Contains("WhatTimeIsIt → ItIs", StringComparison.Ordinal) && line.Contains(" 1000 ", StringComparison.Ordinal));
        Assert.Contains(run.Output, line => line.Contains("WhoAmI → YouAre", StringComparison.Ordinal) && line.Contains(" 1000 ", StringComparison.Ordinal));

        (exitCode, run) = await tool.WevisAsync(Michael, "load", tool.Server, "-d", Definitions, "--clients", "50", "--iterations", "2", "--script", script, "--json");
        Assert.True(exitCode == 0, run.Transcript);
        using JsonDocument report = JsonDocument.Parse(Assert.Single(run.Output));
        Assert.Equal(50, report.RootElement.GetProperty("clients").GetInt32());
        Assert.All(report.RootElement.GetProperty("steps").EnumerateArray(), step => Assert.Equal(100, step.GetProperty("count").GetInt32()));
    }
}
