using Wevis.Cli.Commands;

namespace Wevis.Cli.Tests;

/// <summary>
/// <c>wevis check</c> compares a definitions file with its lock file (<c>x.wevis.lock</c>, the definitions as last
/// published) as the build does: an edit that would break programs built from the published definitions is an error.
/// </summary>
public sealed class LockFileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("wevis-cli-lock-").FullName;

    [Fact]
    public async Task CheckReportsTheBuildsEvolutionErrorsAgainstTheLockFileBesideTheDefinitions()
    {
        string definitions = Path.Combine(_folder, "a.wevis");
        await File.WriteAllTextAsync(definitions, "ItIs hours=long minutes=int\n");
        await File.WriteAllTextAsync(definitions + ".lock", "ItIs hours=int minutes=int\nGone\n");

        (int exitCode, string output, _) = await InProcessCommand.RunAsync(CheckCommand.Create(), "check", definitions);
        string[] lines = output.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Contains(lines, line => line.StartsWith(
            $"{definitions}(1,12): error WEVIS032: Argument 'hours' of 'ItIs' was int in a.wevis.lock line 1 and is now long; changing an argument's type breaks the programs built from the published definitions",
            StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith(
            $"{definitions}.lock(2,1): error WEVIS030: Message 'Gone' is published in a.wevis.lock line 2 but no longer defined",
            StringComparison.Ordinal));
        Assert.Equal("2 error(s), 0 warning(s)", lines[^1]);

        // A version raised above the lock's accepts every edit, as in the build.
        await File.WriteAllTextAsync(definitions, "@version 1\nItIs hours=long minutes=int\n");
        (exitCode, output, _) = await InProcessCommand.RunAsync(CheckCommand.Create(), "check", definitions);
        Assert.Equal(ExitCodes.Success, exitCode);
        Assert.StartsWith("1 message(s), 0 warning(s), no errors", output, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
