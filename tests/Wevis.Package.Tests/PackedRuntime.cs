using System.Globalization;
using System.IO.Compression;
using Wevis.Tests.Shared;

namespace Wevis.Package.Tests;

/// <summary>
/// The Wevis.Runtime package, packed once for the tests from the runtime's build output into a temporary folder,
/// with a version no earlier run used (so NuGet's global packages folder never serves a stale copy); and a
/// temporary workspace in which to make projects that use it, as a new user would.
/// </summary>
public sealed class PackedRuntime : IAsyncLifetime
{
    /// <summary>How long one dotnet command may take on a busy machine before the test fails.</summary>
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(3);

    /// <summary>The package's version: unique to this run.</summary>
    public string Version { get; } = string.Create(
        CultureInfo.InvariantCulture, $"0.1.0-test.{DateTime.UtcNow:yyyyMMddHHmmssfff}.{Environment.ProcessId}");

    /// <summary>The temporary folder that holds the package and the projects.</summary>
    public string Workspace { get; } = Path.Combine(Path.GetTempPath(), "wevis-package-tests-" + Guid.NewGuid().ToString("N")[..12]);

    /// <summary>The folder the package was packed into, a package source for the projects.</summary>
    public string PackageFolder => Path.Combine(Workspace, "packages");

    /// <summary>The packed .nupkg.</summary>
    public string PackagePath => Path.Combine(PackageFolder, $"Wevis.Runtime.{Version}.nupkg");

    /// <summary>The names of the files in the package.</summary>
    public IReadOnlyList<string> PackageFiles { get; private set; } = [];

    /// <summary>The package's manifest (Wevis.Runtime.nuspec).</summary>
    public string Nuspec { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Workspace);

        // Keep the projects apart from anything above the temporary folder: MSBuild looks upwards for these files.
        foreach (string file in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
        {
            await File.WriteAllTextAsync(Path.Combine(Workspace, file), "<Project />\n");
        }

        // The package folder as one more source; the machine's own sources (a NuGet mirror, say) still apply.
        await File.WriteAllTextAsync(Path.Combine(Workspace, "NuGet.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="wevis-under-test" value="{PackageFolder}" />
              </packageSources>
            </configuration>
            """);

        await RunAsync(Repository.Root,
            "pack", Repository.PathOf("src/Wevis.Runtime/Wevis.Runtime.csproj"),
            "--configuration", Repository.Configuration,
            "--no-build", "--no-restore",
            "--output", PackageFolder,
            $"-p:Version={Version}",
            $"-p:NuspecOutputPath={Path.Combine(Workspace, "nuspec")}{Path.DirectorySeparatorChar}");

        using ZipArchive package = ZipFile.OpenRead(PackagePath);
        PackageFiles = [.. package.Entries.Select(entry => entry.FullName)];
        using var nuspec = new StreamReader(package.GetEntry("Wevis.Runtime.nuspec")!.Open());
        Nuspec = await nuspec.ReadToEndAsync();
    }

    public Task DisposeAsync()
    {
        try
        {
            Directory.Delete(Workspace, recursive: true);
            // The run's version will never be asked for again: take it out of the global packages folder.
            string globalPackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } folder
                ? folder
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            string id = Path.Combine(globalPackages, "wevis.runtime");
            string extracted = Path.Combine(id, Version.ToLowerInvariant());
            if (Directory.Exists(extracted))
            {
                Directory.Delete(extracted, recursive: true);
            }

            if (Directory.Exists(id) && !Directory.EnumerateFileSystemEntries(id).Any())
            {
                Directory.Delete(id);
            }
        }
        catch (IOException)
        {
            // Leftovers in the temporary folder do no harm.
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// A new console project in the workspace, made with <c>dotnet new console</c>, that references the package with
    /// <c>dotnet add package</c>.
    /// </summary>
    public async Task<string> NewProjectAsync(string name)
    {
        await RunAsync(Workspace, "new", "console", "--name", name, "--output", name, "--framework", "net10.0");
        string folder = Path.Combine(Workspace, name);
        await RunAsync(folder, "add", "package", "Wevis.Runtime", "--version", Version);
        return folder;
    }

    /// <summary>Runs <c>dotnet</c> with <paramref name="arguments"/> and fails the test unless it succeeds.</summary>
    public static async Task<CommandResult> RunAsync(string folder, params string[] arguments)
    {
        CommandResult result = await TryRunAsync(folder, arguments);
        Assert.True(result.ExitCode == 0, $"dotnet {string.Join(' ', arguments)} failed:\n{result.Transcript}");
        return result;
    }

    /// <summary>Runs <c>dotnet</c> with <paramref name="arguments"/> to the end; the caller checks how it went.</summary>
    public static async Task<CommandResult> TryRunAsync(string folder, params string[] arguments)
    {
        // Build servers would outlive the command and hold its output open; the variables the test host inherited
        // from the outer build would point the inner one at the wrong MSBuild.
        IEnumerable<string> command = arguments[0] is "build" or "pack" ? [.. arguments, "--disable-build-servers"] : arguments;
        Dictionary<string, string?> environment = Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(name => name.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || name.StartsWith("_MSBUILD", StringComparison.OrdinalIgnoreCase))
            .ToDictionary(name => name, string? (_) => null);
        using DotnetProcess process = DotnetProcess.Start(command, folder, environment);
        int exitCode = await process.WaitForExitAsync(CommandTimeout);
        return new CommandResult(exitCode, process.Output, process.Transcript);
    }
}

/// <summary>How a dotnet command went.</summary>
/// <param name="ExitCode">Its exit code.</param>
/// <param name="Output">The lines it wrote to standard output.</param>
/// <param name="Transcript">All it wrote, for assertion messages.</param>
public sealed record CommandResult(int ExitCode, IReadOnlyList<string> Output, string Transcript);
