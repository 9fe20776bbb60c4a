using Wevis.Tests.Shared;

namespace Wevis.Docs.Tests;

/// <summary>
/// Every C# snippet in README.md and docs/**/*.md is compiled as it stands, and every whole program is run.
/// </summary>
/// <remarks>
/// <para>How a page's snippets are compiled (in this process, with Roslyn, against the built Wevis.Runtime):</para>
/// <list type="bullet">
/// <item>The page's <c>wevis</c> blocks are its definitions: the Wevis source generator turns them into message
/// types, in the global namespace unless the page says <c>&lt;!-- snippet: namespace Hello --&gt;</c>.</item>
/// <item>A C# block is compiled according to what it holds, with nothing to write:
/// <b>types</b> (classes, records, with using directives) are a file of the page's compilation, so later blocks
/// on the page can use them; <b>members</b> (a method, a property) become the body of a class, and <b>statements</b> the
/// body of an async method of a class, derived from the page's <c>SnippetContext</c>; top-level statements
/// <b>with</b> types are a <b>whole program</b>, compiled on its own (with the page's messages and only the
/// usings of a new console project, as a reader's Program.cs is) and run.</item>
/// <item>Type, member and statement blocks may use, without writing them: the usings of a new console project,
/// plus <c>Wevis</c>, <c>Microsoft.Extensions.Logging</c>, <c>System.Net</c>, <c>System.Security.Cryptography</c>
/// and <c>…X509Certificates</c>, and the page's message namespace.</item>
/// <item>Names a fragment uses without declaring them (a <c>client</c>, a <c>room</c>) come from the page's hidden
/// context: an HTML comment, invisible on the page, whose lines are members of <c>SnippetContext</c>, optionally
/// with a base class on its first line:
/// <code>
/// &lt;!-- snippet: context : Room
/// Client client = null!;
/// --&gt;
/// </code></item>
/// <item>A comment <c>&lt;!-- snippet: WORDS --&gt;</c> on the line before a block (blank lines between are
/// allowed) changes how it is taken: <c>program</c> (statements only, but a whole program: compile and run it),
/// <c>no-run</c> (a program that runs until stopped: compile only), <c>output</c> (on a text block after a
/// program: the program must print exactly these lines), <c>generated</c> (an excerpt of generated code, with
/// <c>…</c> for lines left out: checked against the generator's golden files), <c>skip</c> (not compiled; say
/// why after it), <c>file NAME</c> (a file of the README's quickstart, see the package tests).</item>
/// </list>
/// <para>Errors point at the page: <c>docs/guide/client.md(42,9): error CS0103: The name 'x' does not exist…</c>.</para>
/// </remarks>
public sealed class SnippetTests : IClassFixture<SnippetTests.Output>
{
    private static readonly TimeSpan ProgramTimeout = TimeSpan.FromSeconds(60);

    private readonly SnippetCompiler _compiler;

    public SnippetTests(Output output)
    {
        _compiler = new SnippetCompiler(output.Folder);
    }

    /// <summary>README.md and every Markdown page under docs/.</summary>
    public static TheoryData<string> Pages() => [.. PagePaths()];

    /// <summary>The pages' paths, relative to the repository, with forward slashes.</summary>
    public static IEnumerable<string> PagePaths() =>
        Directory.EnumerateFiles(Repository.PathOf("docs"), "*.md", SearchOption.AllDirectories)
            .Select(path => Path.GetRelativePath(Repository.Root, path).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .Prepend("README.md");

    [Theory]
    [MemberData(nameof(Pages))]
    public async Task EverySnippetCompilesAndEveryProgramRuns(string page)
    {
        IReadOnlyList<string> problems = await CheckAsync(page);

        Assert.True(problems.Count == 0, $"{page}:\n" + string.Join('\n', problems));
    }

    [Fact]
    public void ThePagesHaveSnippetsOfEveryKind()
    {
        // The checks above are not vacuous: the pages hold programs, fragments and types, and the programs run.
        Dictionary<SnippetKind, int> counts = PagePaths()
            .Select(path => MarkdownPage.Read(Repository.PathOf(path), path))
            .SelectMany(page => page.Blocks.Where(b => b.IsCSharp).Select(SnippetCompiler.Classify))
            .GroupBy(kind => kind)
            .ToDictionary(g => g.Key, g => g.Count());

        foreach (SnippetKind kind in new[] { SnippetKind.File, SnippetKind.Members, SnippetKind.Statements, SnippetKind.Program })
        {
            Assert.True(counts.GetValueOrDefault(kind) > 0, $"No {kind} snippet in the documentation.");
        }
    }

    [Fact]
    public async Task ABrokenSnippetIsReportedWithItsFileAndLine()
    {
        const string Page = "tests/Wevis.Docs.Tests/Fixtures/broken.md";

        IReadOnlyList<string> problems = await CheckAsync(Page);

        string[] lines = File.ReadAllLines(Repository.PathOf(Page));
        string At(string text) => $"{Page}({Array.FindIndex(lines, l => l.Contains(text, StringComparison.Ordinal)) + 1},";
        string[] expected =
        [
            $"{At("y=integer")}14): error WEVIS001: Unknown type 'integer'",
            $"{At("NoSuchMessage")}17): error CS0246: The type or namespace name 'NoSuchMessage' could not be found",
            $"{At("Send(42)")}17): error CS1503: Argument 1: cannot convert from 'int' to 'Wevis.IClientMessage'",
            $"{At("nmae")}50): error CS0103: The name 'nmae' does not exist",
            $"{At("Missing.Type")}23): error CS0246: The type or namespace name 'Missing'",
        ];
        string all = string.Join('\n', problems);
        foreach (string problem in expected)
        {
            Assert.True(problems.Any(p => p.StartsWith(problem, StringComparison.Ordinal)), $"Expected a problem starting\n{problem}\nin\n{all}");
        }

        Assert.True(problems.Count == expected.Length, all);
    }

    [Fact]
    public async Task AProgramThatPrintsOtherThanItsPageSaysIsReported()
    {
        const string Page = "tests/Wevis.Docs.Tests/Fixtures/wrong-output.md";

        IReadOnlyList<string> problems = await CheckAsync(Page);

        string problem = Assert.Single(problems);
        Assert.StartsWith($"{Page}(", problem, StringComparison.Ordinal);
        Assert.Contains("printed", problem, StringComparison.Ordinal);
        Assert.Contains("Sum: 5", problem, StringComparison.Ordinal);
        Assert.Contains("Sum: 6", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("var x = 1;\nConsole.WriteLine(x);", SnippetKind.Statements)]
    [InlineData("client.Send(new WhoAmI());", SnippetKind.Statements)]
    [InlineData("LoginResult Validate(string u) => new User(u);", SnippetKind.Statements)] // A local function.
    [InlineData("protected override void OnUserEnter(Connection connection) { }", SnippetKind.Members)]
    [InlineData("public static int Twice(int x) => 2 * x;", SnippetKind.Members)]
    [InlineData("using Wevis;\n\nsealed class R : Room { }", SnippetKind.File)]
    [InlineData("[WevisMessage]\npublic partial record Move(int X, int Y);", SnippetKind.File)]
    [InlineData("Console.WriteLine(new R());\n\nsealed class R { }", SnippetKind.Program)]
    public void BlocksAreTakenForWhatTheyHold(string code, SnippetKind kind)
    {
        Assert.Equal(kind, SnippetCompiler.Classify(new CodeBlock("csharp", 1, code.Split('\n'), string.Empty)));
        Assert.Equal(SnippetKind.Program, SnippetCompiler.Classify(new CodeBlock("csharp", 1, ["Console.WriteLine();"], "program")));
        Assert.Equal(SnippetKind.Skipped, SnippetCompiler.Classify(new CodeBlock("csharp", 1, ["not C#"], "skip (pseudo-code)")));
    }

    /// <summary>Compiles the page's snippets, checks its excerpts of generated code, and runs its programs.</summary>
    private async Task<IReadOnlyList<string>> CheckAsync(string relativePath)
    {
        MarkdownPage page = MarkdownPage.Read(Repository.PathOf(relativePath), relativePath);
        PageResult result = _compiler.Compile(page);
        var problems = new List<string>(result.Problems);
        problems.AddRange(GeneratedExcerpts.Check(page));
        foreach (CompiledProgram program in result.Programs.Where(p => p.Run))
        {
            using DotnetProcess process = DotnetProcess.Start([program.Assembly], Path.GetDirectoryName(program.Assembly));
            int exitCode = await process.WaitForExitAsync(ProgramTimeout);
            string where = $"{relativePath}({program.Block.Line})";
            if (exitCode != 0)
            {
                problems.Add($"{where}: the program exited with {exitCode}:\n{process.Transcript}");
            }
            else if (program.ExpectedOutput is { } expected && !expected.SequenceEqual(process.Output))
            {
                problems.Add($"{where}: the program printed\n{string.Join('\n', process.Output)}\nbut the page says it prints\n{string.Join('\n', expected)}");
            }
        }

        return problems;
    }

    /// <summary>A folder for the programs of one test run, deleted afterwards.</summary>
    public sealed class Output : IDisposable
    {
        public string Folder { get; } = Path.Combine(Path.GetTempPath(), "wevis-snippets-" + Guid.NewGuid().ToString("N")[..12]);

        /// <summary>With WEVIS_SNIPPETS_DUMP=1 the folder is kept, with what the snippets were compiled as.</summary>
        private static bool Keep => Environment.GetEnvironmentVariable("WEVIS_SNIPPETS_DUMP") == "1";

        public void Dispose()
        {
            if (Keep)
            {
                return;
            }

            try
            {
                Directory.Delete(Folder, recursive: true);
            }
            catch (IOException)
            {
                // Leftovers in the temporary folder do no harm.
            }
        }
    }
}
