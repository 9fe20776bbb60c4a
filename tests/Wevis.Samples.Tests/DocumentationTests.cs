using Wevis.Tests.Shared;

namespace Wevis.Samples.Tests;

/// <summary>
/// The code in the README, the docs and the samples' READMEs is real: every C# block appears in a compiled
/// source file, every definitions block in a .wevis file, and every project-file block in a project file, with
/// <c>…</c> lines standing for parts left out. (C# is matched in the repository's sources, which the build compiles,
/// or in the generator's golden files, which are the generated code the generator tests compile.) Indentation
/// and blank lines do not count, so a snippet may be dedented; everything else must match exactly.
/// </summary>
public class DocumentationTests
{
    private static readonly Lazy<IReadOnlyDictionary<string, string[]>> s_sources = new(LoadSources);

    public static TheoryData<string> Documents() =>
    [
        "README.md",
        "docs/definitions.md",
        "docs/protocol.md",
        "docs/receiving.md",
        "samples/BenNevis/README.md",
    ];

    [Theory]
    [MemberData(nameof(Documents))]
    public void EveryCodeBlockIsTakenFromSourceThatIsBuilt(string document)
    {
        var unmatched = new List<string>();
        foreach (CodeBlock block in CodeBlocks(Repository.PathOf(document)))
        {
            string[]? extensions = block.Language switch
            {
                "csharp" or "cs" or "c#" => [".cs"],
                "wevis" => [".wevis", ".cs"], // In C#: definitions that tests write into files they build.
                "xml" => [".csproj", ".props", ".targets", ".cs"],
                _ => null, // Shell commands, output and diagrams; commands are checked below.
            };
            if (extensions is not null && !IsTakenFromSource(block, extensions))
            {
                unmatched.Add($"{document} line {block.Line} ({block.Language}):\n{string.Join('\n', block.Lines)}");
            }
        }

        Assert.True(unmatched.Count == 0, "These blocks are not in any source file:\n\n" + string.Join("\n\n", unmatched));
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public void EveryProjectACommandRunsExists(string document)
    {
        foreach (CodeBlock block in CodeBlocks(Repository.PathOf(document)).Where(b => b.Language == "sh"))
        {
            foreach (string line in block.Lines)
            {
                string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                int project = Array.IndexOf(words, "--project");
                if (project >= 0)
                {
                    string folder = Repository.PathOf(words[project + 1]);
                    Assert.True(Directory.EnumerateFiles(folder, "*.csproj").Any(), $"{document}: no project in {words[project + 1]}");
                }

                if (words is ["dotnet", "test" or "pack", var target, ..] && !target.StartsWith('-'))
                {
                    Assert.True(File.Exists(Repository.PathOf(target)) || Directory.Exists(Repository.PathOf(target)), $"{document}: no {target}");
                }
            }
        }
    }

    [Fact]
    public void TheReadmeStartsWithTheDemoAndTheTestCommands()
    {
        List<CodeBlock> blocks = [.. CodeBlocks(Repository.PathOf("README.md")).Where(b => b.Language == "sh").Take(2)];

        Assert.Equal(["dotnet run --project samples/TimeDemo"], blocks[0].Lines);
        Assert.Equal(["dotnet test Wevis.sln"], blocks[1].Lines);
    }

    [Fact]
    public void AMissingLineIsNoticed()
    {
        // The matcher itself: a block with a line that no file has is not taken from source.
        var block = new CodeBlock("csharp", 1, ["protected override void OnUserEnter(Connection connection)", "{", "connection.Send(new NoSuchMessage());", "}"]);

        Assert.False(IsTakenFromSource(block, [".cs"]));
        Assert.True(IsTakenFromSource(block with { Lines = ["protected override void OnUserEnter(Connection connection)", "{", "connection.Send(new ServerReady());", "}"] }, [".cs"]));
    }

    /// <summary>Whether the block's parts, split at <c>…</c> lines, appear in order in one file with one of the extensions.</summary>
    private static bool IsTakenFromSource(CodeBlock block, string[] extensions)
    {
        List<List<string>> parts = [[]];
        foreach (string line in block.Lines.Select(l => l.Trim()).Where(l => l.Length > 0))
        {
            if (line is "…" or "// …")
            {
                parts.Add([]);
            }
            else
            {
                parts[^1].Add(line);
            }
        }

        parts.RemoveAll(part => part.Count == 0);
        return parts.Count > 0 && s_sources.Value
            .Where(source => extensions.Contains(Path.GetExtension(source.Key)))
            .Any(source => ContainsInOrder(source.Value, parts));
    }

    private static bool ContainsInOrder(string[] lines, List<List<string>> parts)
    {
        int from = 0;
        foreach (List<string> part in parts)
        {
            int at = IndexOf(lines, part, from);
            if (at < 0)
            {
                return false;
            }

            from = at + part.Count;
        }

        return true;
    }

    private static int IndexOf(string[] lines, List<string> part, int from)
    {
        for (int start = from; start + part.Count <= lines.Length; start++)
        {
            int k = 0;
            while (k < part.Count && lines[start + k] == part[k])
            {
                k++;
            }

            if (k == part.Count)
            {
                return start;
            }
        }

        return -1;
    }

    /// <summary>The repository's sources, by path, as trimmed non-blank lines; build output is left out.</summary>
    private static IReadOnlyDictionary<string, string[]> LoadSources()
    {
        string[] extensions = [".cs", ".wevis", ".csproj", ".props", ".targets"];
        return new[] { "src", "samples", "tests", "definitions" }
            .Select(Repository.PathOf)
            .SelectMany(folder => Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
            .Where(path => extensions.Contains(Path.GetExtension(path)))
            .Where(path => !path.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"))
            .ToDictionary(path => path, path => File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray());
    }

    /// <summary>The fenced code blocks of a Markdown file, with their language and the line they start on.</summary>
    private static IEnumerable<CodeBlock> CodeBlocks(string markdown)
    {
        string[] lines = File.ReadAllLines(markdown);
        for (int i = 0; i < lines.Length; i++)
        {
            if (!lines[i].StartsWith("```", StringComparison.Ordinal))
            {
                continue;
            }

            string language = lines[i][3..].Trim();
            int start = i + 1;
            int end = start;
            while (end < lines.Length && !lines[end].StartsWith("```", StringComparison.Ordinal))
            {
                end++;
            }

            Assert.True(end < lines.Length, $"{markdown}: the code block at line {i + 1} is not closed.");
            yield return new CodeBlock(language, start, lines[start..end]);
            i = end;
        }
    }

    private sealed record CodeBlock(string Language, int Line, string[] Lines);
}
