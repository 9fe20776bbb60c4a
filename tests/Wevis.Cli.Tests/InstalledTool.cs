using System.Globalization;
using System.Text.RegularExpressions;
using Wevis.Tests.Shared;

namespace Wevis.Cli.Tests;

/// <summary>
/// The wevis tool as a user gets it: packed from the build output into a temporary folder with a version no earlier
/// run used, installed from there as a local tool of a temporary workspace, and run as <c>dotnet wevis …</c>;
/// with the hosted time server running as a process beside it (on a free port, any number of connections per user).
/// </summary>
public sealed partial class InstalledTool : IAsyncLifetime
{
    /// <summary>How long one dotnet command may take on a busy machine before the test fails.</summary>
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(3);

    private DotnetProcess? _server;

    public string Version { get; } = string.Create(CultureInfo.InvariantCulture, $"0.1.0-test.{DateTime.UtcNow:yyyyMMddHHmmssfff}.{Environment.ProcessId}");

    public string Workspace { get; } = Path.Combine(Path.GetTempPath(), "wevis-cli-tests-" + Guid.NewGuid().ToString("N")[..12]);

    public string PackageFolder => Path.Combine(Workspace, "packages");

    /// <summary>The time server's address: 127.0.0.1:port.</summary>
    public string Server { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Workspace);
        foreach (string file in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
        {
            await File.WriteAllTextAsync(Path.Combine(Workspace, file), "<Project />\n");
        }

        await File.WriteAllTextAsync(Path.Combine(Workspace, "NuGet.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="wevis-under-test" value="{PackageFolder}" />
              </packageSources>
            </configuration>
            """);
        await RunAsync(Repository.Root, "pack", Repository.PathOf("src/Wevis.Cli/Wevis.Cli.csproj"),
            "--configuration", Repository.Configuration, "--no-build", "--no-restore", "--output", PackageFolder, $"-p:Version={Version}");
        await RunAsync(Workspace, "new", "tool-manifest");
        await RunAsync(Workspace, "tool", "install", "--local", "Wevis.Cli", "--version", Version);

        string serverDll = Repository.SampleDll("TimeServer.Hosted");
        _server = DotnetProcess.Start(
            [serverDll, "--Wevis:Server:Host", "127.0.0.1", "--Wevis:Server:Port", "0", "--Wevis:Server:MaxConnectionsPerUser", "100", "--Logging:LogLevel:Default", "Warning", "--Logging:LogLevel:Wevis.Server", "Information"],
            workingDirectory: Path.GetDirectoryName(serverDll));
        Match listening = await _server.WaitForOutputAsync(ListeningLine(), CommandTimeout);
        Server = "127.0.0.1:" + listening.Groups["port"].Value;
    }

    /// <summary>Runs <c>dotnet wevis</c> with <paramref name="arguments"/> in the workspace; returns the exit code and the process (its output).</summary>
    internal async Task<(int ExitCode, DotnetProcess Process)> WevisAsync(IReadOnlyDictionary<string, string?>? environment, params string[] arguments)
    {
        DotnetProcess process = DotnetProcess.Start(["wevis", .. arguments], Workspace, environment);
        int exitCode = await process.WaitForExitAsync(CommandTimeout);
        return (exitCode, process);
    }

    public Task DisposeAsync()
    {
        _server?.Dispose();
        try
        {
            Directory.Delete(Workspace, recursive: true);
        }
        catch (IOException)
        {
            // Left for the system's temporary-folder cleanup.
        }

        return Task.CompletedTask;
    }

    private static async Task RunAsync(string workingDirectory, params string[] arguments)
    {
        using DotnetProcess process = DotnetProcess.Start(arguments, workingDirectory);
        int exitCode = await process.WaitForExitAsync(CommandTimeout);
        Assert.True(exitCode == 0, $"dotnet {string.Join(' ', arguments)} failed ({exitCode}):\n{process.Transcript}");
    }

    [GeneratedRegex(@"Wevis server listening on 127\.0\.0\.1:(?<port>\d+)")]
    private static partial Regex ListeningLine();
}
