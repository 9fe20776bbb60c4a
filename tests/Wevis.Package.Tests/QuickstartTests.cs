using System.Diagnostics;
using System.Text;
using Wevis.Tests.Shared;

namespace Wevis.Package.Tests;

/// <summary>
/// The README's quickstart, followed word for word as a new user on a fresh machine would: its commands and its
/// files are taken from README.md (blocks marked <c>&lt;!-- snippet: quickstart --&gt;</c> are commands, run in
/// order by one shell; blocks marked <c>&lt;!-- snippet: file NAME --&gt;</c> are saved as NAME where the commands
/// have got to), and the program must print the README's <c>output</c> block. So the test breaks when the README
/// changes and no longer works.
/// </summary>
/// <remarks>
/// The user is new: the shell's home is an empty temporary folder (so <c>~/wevis-packages</c> and NuGet's user
/// settings are fresh), the clone is a copy of this repository's sources, and NuGet's package folder is empty.
/// Packages other than Wevis.Runtime are found in the machine's package folder, read-only (a fallback folder
/// without Wevis.Runtime, so a copy packed earlier can never stand in for this one), or else from the configured
/// NuGet sources.
/// </remarks>
public sealed class QuickstartTests
{
    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromMinutes(10);

    [Fact]
    public void TheReadmeHasAQuickstartToFollow()
    {
        Quickstart quickstart = Quickstart.FromReadme();

        Assert.Contains(quickstart.Steps, step => step.Commands?.Any(c => c.StartsWith("dotnet pack ", StringComparison.Ordinal)) == true);
        Assert.Contains(quickstart.Steps, step => step.Commands?.Contains("dotnet add package Wevis.Runtime") == true);
        Assert.Contains(quickstart.Steps, step => step.FileName == "Program.cs");
        Assert.Contains(quickstart.Steps, step => step.FileName?.EndsWith(".wevis", StringComparison.Ordinal) == true);
        Assert.Equal("dotnet run", quickstart.Steps[^1].Commands?[^1]);
        Assert.NotEmpty(quickstart.ExpectedOutput);
    }

    [Fact]
    public async Task TheReadmesQuickstartWorksAsWritten()
    {
        Quickstart quickstart = Quickstart.FromReadme();
        string workspace = Path.Combine(Path.GetTempPath(), "wevis-quickstart-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            string clone = Path.Combine(workspace, "wevis");
            string home = Path.Combine(workspace, "home");
            string fallback = Path.Combine(workspace, "machine-packages");
            Directory.CreateDirectory(home);
            CopySources(clone);
            LinkMachinePackages(fallback);
            // Keep MSBuild from finding anything above the user's projects: it looks upwards for these files.
            foreach (string file in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
            {
                await File.WriteAllTextAsync(Path.Combine(workspace, file), "<Project />\n");
            }

            string script = Path.Combine(workspace, "quickstart.sh");
            await File.WriteAllTextAsync(script, quickstart.Script(clone));
            (int exitCode, string output) = await RunScriptAsync(script, home, fallback);

            Assert.True(exitCode == 0, $"The quickstart failed (exit code {exitCode}):\n{output}");
            string[] lines = output.Split('\n', StringSplitOptions.None).Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToArray();
            Assert.True(
                lines.Length >= quickstart.ExpectedOutput.Length && lines[^quickstart.ExpectedOutput.Length..].SequenceEqual(quickstart.ExpectedOutput),
                $"The program did not end by printing what the README says:\n{string.Join('\n', quickstart.ExpectedOutput)}\n\nIt printed:\n{output}");
            Assert.True(File.Exists(Path.Combine(home, "wevis-packages", "Wevis.Runtime.0.1.0.nupkg")), "The package is not where the README says.");
        }
        finally
        {
            try
            {
                Directory.Delete(workspace, recursive: true);
            }
            catch (IOException)
            {
                // Leftovers in the temporary folder do no harm.
            }
        }
    }

    /// <summary>
    /// A clone's sources, as far as packing needs them: the root's files and src/, without build output. (A real
    /// clone has the tests and samples too; packing does not read them.)
    /// </summary>
    private static void CopySources(string clone)
    {
        Directory.CreateDirectory(clone);
        foreach (string file in Directory.EnumerateFiles(Repository.Root))
        {
            File.Copy(file, Path.Combine(clone, Path.GetFileName(file)));
        }

        string source = Repository.PathOf("src");
        foreach (string file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(source, file);
            if (relative.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"))
            {
                continue;
            }

            string target = Path.Combine(clone, "src", relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    /// <summary>A package folder that shows every package of this machine's but Wevis.Runtime, through links.</summary>
    private static void LinkMachinePackages(string fallback)
    {
        Directory.CreateDirectory(fallback);
        string machine = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } folder
            ? folder
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        if (!Directory.Exists(machine))
        {
            return;
        }

        foreach (string package in Directory.EnumerateDirectories(machine))
        {
            string id = Path.GetFileName(package);
            if (id != "wevis.runtime")
            {
                Directory.CreateSymbolicLink(Path.Combine(fallback, id), package);
            }
        }
    }

    private static async Task<(int ExitCode, string Output)> RunScriptAsync(string script, string home, string fallback)
    {
        var info = new ProcessStartInfo("bash", [script])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = home,
        };
        // The variables the test host inherited from the outer build would point the inner one at the wrong MSBuild.
        foreach (string name in info.Environment.Keys.Where(n => n.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || n.StartsWith("_MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(name);
        }

        info.Environment.Remove("NUGET_PACKAGES");
        info.Environment["HOME"] = home;
        info.Environment["NUGET_FALLBACK_PACKAGES"] = fallback;
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        // No build servers: they would outlive the commands and hold the script's output open.
        info.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        info.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        info.Environment["UseSharedCompilation"] = "false";
        // The same SDK as the tests', first on the path.
        if (Path.GetDirectoryName(DotnetProcess.Host) is { Length: > 0 } dotnetFolder)
        {
            info.Environment["PATH"] = dotnetFolder + Path.PathSeparator + info.Environment["PATH"];
        }

        using var process = new Process { StartInfo = info };
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(ScriptTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"The quickstart did not finish within {ScriptTimeout.TotalMinutes} minutes:\n{Text()}");
        }

        return (process.ExitCode, Text());

        void Append(string? line)
        {
            if (line is not null)
            {
                lock (output)
                {
                    output.Append(line).Append('\n');
                }
            }
        }

        string Text()
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    /// <summary>One step of the quickstart: commands to run, or a file to save.</summary>
    private sealed record Step(string[]? Commands, string? FileName, string[]? FileLines);

    /// <summary>The README's quickstart: its steps in order, and what the program prints at the end.</summary>
    private sealed record Quickstart(IReadOnlyList<Step> Steps, string[] ExpectedOutput)
    {
        private const string EndOfFile = "WEVIS_QUICKSTART_END_OF_FILE";

        public static Quickstart FromReadme()
        {
            MarkdownPage readme = MarkdownPage.Read(Repository.PathOf("README.md"), "README.md");
            var steps = new List<Step>();
            string[]? output = null;
            foreach (CodeBlock block in readme.Blocks)
            {
                if (block.Language == "sh" && block.Has("quickstart"))
                {
                    steps.Add(new Step(block.Lines.Where(l => l.Trim().Length > 0).ToArray(), null, null));
                }
                else if (block.After("file") is { } name)
                {
                    steps.Add(new Step(null, name, block.Lines));
                }
                else if (block.Has("output") && steps.Count > 0 && output is null)
                {
                    output = block.Lines;
                }
            }

            return new Quickstart(steps, output ?? []);
        }

        /// <summary>The steps as one bash script, starting in the clone; files are written with here-documents.</summary>
        public string Script(string clone)
        {
            var script = new StringBuilder("set -euo pipefail\n");
            script.Append("cd '").Append(clone).Append("'\n"); // The user starts in their clone.
            foreach (Step step in Steps)
            {
                if (step.Commands is { } commands)
                {
                    foreach (string command in commands)
                    {
                        script.Append(command).Append('\n');
                    }
                }
                else
                {
                    Assert.DoesNotContain(EndOfFile, step.FileLines!);
                    script.Append("cat > '").Append(step.FileName).Append("' <<'").Append(EndOfFile).Append("'\n");
                    foreach (string line in step.FileLines!)
                    {
                        script.Append(line).Append('\n');
                    }

                    script.Append(EndOfFile).Append('\n');
                }
            }

            return script.ToString();
        }
    }
}
