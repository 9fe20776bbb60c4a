using System.Text.RegularExpressions;
using Wevis.Tests.Shared;

namespace Wevis.Samples.Tests;

/// <summary>samples/TimeServer and samples/TimeClient, run as a user runs them: as two programs.</summary>
public sealed partial class TimeSampleTests(TimeSampleTests.ServerProcess server) : IClassFixture<TimeSampleTests.ServerProcess>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("blocking")]
    [InlineData("async")]
    public async Task TheClientPrintsTheExampleConversation(string style)
    {
        List<string> arguments = [Repository.SampleDll("TimeClient"), "--host", "127.0.0.1", "--port", server.Port];
        if (style == "async")
        {
            arguments.Add("--async");
        }

        DateTime before = DateTime.Now;
        using DotnetProcess client = DotnetProcess.Start(arguments);
        int exitCode = await client.WaitForExitAsync(Timeout);
        DateTime after = DateTime.Now;

        Assert.True(exitCode == 0, client.Transcript);
        Assert.Equal(4, client.Output.Count);
        Assert.Equal("Username: michael", client.Output[0]);
        Assert.Contains(client.Output[1], new[] { $"It is {before:HH:mm}", $"It is {after:HH:mm}" });
        Assert.Equal("Singles: [0.0, 0.1, 0.2]", client.Output[2]);
        Assert.Equal("Doubles: [0.0, 0.1, 0.2, 0.3, 0.4]", client.Output[3]);
        Assert.Empty(client.Errors);
    }

    [Fact]
    public async Task AWrongPasswordPrintsTheServersReasonAndFails()
    {
        using DotnetProcess client = DotnetProcess.Start(
            [Repository.SampleDll("TimeClient"), "--host", "127.0.0.1", "--port", server.Port, "--password", "not-my-password"]);

        int exitCode = await client.WaitForExitAsync(Timeout);

        Assert.Equal(1, exitCode);
        Assert.Empty(client.Output);
        Assert.Equal(["Login rejected: Unknown user or wrong password."], client.Errors);
    }

    [Fact]
    public async Task TheServerLogsAtDebugLevelToTheConsole()
    {
        using DotnetProcess client = DotnetProcess.Start([Repository.SampleDll("TimeClient"), "--host", "127.0.0.1", "--port", server.Port]);
        Assert.Equal(0, await client.WaitForExitAsync(Timeout));

        await server.Process.WaitForOutputAsync(AnsweredFloatsLine(), Timeout);
        Assert.Contains(server.Process.Output, line => line.StartsWith("dbug: Wevis.Server", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnUnknownOptionPrintsTheUsage()
    {
        using DotnetProcess client = DotnetProcess.Start([Repository.SampleDll("TimeClient"), "--colour", "blue"]);

        Assert.Equal(2, await client.WaitForExitAsync(Timeout));
        Assert.Equal("Unknown argument '--colour'.", client.Errors[0]);
        Assert.StartsWith("Usage: TimeClient", client.Errors[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheDemoPrintsTheClientsLinesAndExitsZero()
    {
        using DotnetProcess demo = DotnetProcess.Start([Repository.SampleDll("TimeDemo")]);

        int exitCode = await demo.WaitForExitAsync(Timeout);

        Assert.True(exitCode == 0, demo.Transcript);
        Assert.Matches(@"^TimeServer is listening on 127\.0\.0\.1:\d+\. TimeClient says:$", demo.Output[0]);
        Assert.Equal("Username: michael", demo.Output[1]);
        Assert.Matches(@"^It is \d\d:\d\d$", demo.Output[2]);
        Assert.Equal(["Singles: [0.0, 0.1, 0.2]", "Doubles: [0.0, 0.1, 0.2, 0.3, 0.4]"], demo.Output.Skip(3));
        Assert.Empty(demo.Errors);
    }

    [GeneratedRegex(@"^dbug: TimeServer\.TimeRoom\[1\] Answered michael's PleaseMayIHaveSomeFloats")]
    private static partial Regex AnsweredFloatsLine();

    [GeneratedRegex(@"Wevis server listening on 127\.0\.0\.1:(?<port>\d+) ")]
    private static partial Regex ListeningLine();

    /// <summary>One TimeServer process for the class's tests, on a port the system picked; it prints which.</summary>
    public sealed class ServerProcess : IAsyncLifetime
    {
        internal DotnetProcess Process { get; private set; } = null!;

        public string Port { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Process = DotnetProcess.Start([Repository.SampleDll("TimeServer"), "--host", "127.0.0.1", "--port", "0"]);
            Match listening = await Process.WaitForOutputAsync(ListeningLine(), Timeout);
            Port = listening.Groups["port"].Value;
        }

        public Task DisposeAsync()
        {
            Process.Dispose();
            return Task.CompletedTask;
        }
    }
}
