using System.Collections.Immutable;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using Wevis.Generator;
using Wevis.Tests.Shared;

namespace Wevis.Docs.Tests;

/// <summary>What a C# block is, as <see cref="SnippetCompiler.Classify"/> decides from its directive and its syntax.</summary>
public enum SnippetKind
{
    /// <summary>Types (and using directives): a file of the page's compilation.</summary>
    File,

    /// <summary>Members (methods, fields, properties): the body of a class derived from the page's context.</summary>
    Members,

    /// <summary>Statements: the body of an async method of a class derived from the page's context.</summary>
    Statements,

    /// <summary>A whole program (top-level statements): compiled on its own with the page's messages, and run.</summary>
    Program,

    /// <summary>An excerpt of generated code (<c>snippet: generated</c>): checked against the generator's golden files.</summary>
    Generated,

    /// <summary>Not compiled (<c>snippet: skip</c>).</summary>
    Skipped,
}

/// <summary>A program compiled from a page, ready to run.</summary>
/// <param name="Block">The block it was compiled from.</param>
/// <param name="Assembly">The emitted dll, with its runtimeconfig.json and dependencies beside it.</param>
/// <param name="ExpectedOutput">The lines of the page's <c>snippet: output</c> block after it, or null.</param>
/// <param name="Run">Whether to run it (false with <c>snippet: no-run</c>, for a server that runs until stopped).</param>
internal sealed record CompiledProgram(CodeBlock Block, string Assembly, string[]? ExpectedOutput, bool Run);

/// <summary>The outcome of compiling one page's snippets.</summary>
/// <param name="Problems">Errors and warnings, each as <c>page.md(line,column): error CS0103: …</c>, at the page's own lines.</param>
/// <param name="Programs">The page's programs, emitted (only when there were no problems).</param>
/// <param name="Counts">How many blocks of each kind the page has.</param>
internal sealed record PageResult(IReadOnlyList<string> Problems, IReadOnlyList<CompiledProgram> Programs, IReadOnlyDictionary<SnippetKind, int> Counts);

/// <summary>
/// Compiles the C# snippets of a Markdown page in this process with Roslyn, against the built Wevis.Runtime, with
/// the page's <c>wevis</c> blocks run through the Wevis source generator; see <see cref="SnippetTests"/> for the
/// conventions. Diagnostics point at the page's own lines (through <c>#line</c> directives).
/// </summary>
internal sealed class SnippetCompiler
{
    /// <summary>The global usings of a new console project (the SDK's implicit usings); programs get only these.</summary>
    public static readonly string[] ConsoleUsings =
        ["System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Net.Http", "System.Threading", "System.Threading.Tasks"];

    /// <summary>The usings fragments and type blocks get besides the console's, so that they need not repeat them.</summary>
    public static readonly string[] FragmentUsings =
        ["Wevis", "Wevis.Hosting", "Wevis.Testing", "Microsoft.Extensions.Logging", "System.Net", "System.Security.Cryptography", "System.Security.Cryptography.X509Certificates"];

    /// <summary>Warnings that say nothing about a fragment: unused variables, fields or local functions, an async body without await.</summary>
    private static readonly string[] s_ignored = ["CS1701", "CS1702", "CS1998", "CS8321", "CS0168", "CS0219", "CS0169", "CS0414", "CS0649"];

    /// <summary>The assemblies a snippet may use beside the framework: the runtime, its dependencies, and logging.</summary>
    private static readonly string[] s_libraries = [.. new[]
    {
        typeof(IMessage).Assembly,
        typeof(MessagePack.MessagePackWriter).Assembly,
        typeof(MessagePack.MessagePackObjectAttribute).Assembly,
        typeof(Microsoft.Extensions.Logging.ILogger).Assembly,
        typeof(Microsoft.Extensions.Logging.LoggerFactory).Assembly,
        typeof(Microsoft.Extensions.Logging.ConsoleLoggerExtensions).Assembly,
        typeof(Microsoft.Extensions.Options.IOptions<>).Assembly,
        typeof(Microsoft.Extensions.DependencyInjection.IServiceCollection).Assembly,
        typeof(Microsoft.Extensions.DependencyInjection.ServiceCollection).Assembly,
        typeof(Microsoft.Extensions.Primitives.StringValues).Assembly,
        typeof(Microsoft.Extensions.Logging.Configuration.ILoggerProviderConfiguration<>).Assembly,
        typeof(Microsoft.Extensions.Configuration.IConfiguration).Assembly,
        // The hosting and testing packages, and what their snippets use of the host and the fake clock.
        typeof(Wevis.Hosting.WevisServerBuilder).Assembly,
        typeof(Wevis.Testing.InMemoryServer).Assembly,
        typeof(Microsoft.Extensions.Time.Testing.FakeTimeProvider).Assembly,
        typeof(Microsoft.Extensions.Hosting.Host).Assembly,
        typeof(Microsoft.Extensions.Hosting.IHost).Assembly,
        typeof(Microsoft.Extensions.DependencyInjection.OptionsConfigurationServiceCollectionExtensions).Assembly,
        typeof(Microsoft.Extensions.Diagnostics.Metrics.IMetricsBuilder).Assembly,
        typeof(Microsoft.Extensions.Configuration.ConfigurationManager).Assembly,
    }.Select(a => a.Location).Distinct()];

    private static readonly ImmutableArray<MetadataReference> s_references =
    [
        .. Basic.Reference.Assemblies.Net100.References.All,
        .. s_libraries.Select(path => MetadataReference.CreateFromFile(path)),
    ];

    private static readonly CSharpParseOptions s_parseOptions = CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.Latest);

    private readonly string _outputFolder;

    /// <param name="outputFolder">Where programs are emitted; the libraries they use are copied there.</param>
    public SnippetCompiler(string outputFolder)
    {
        _outputFolder = outputFolder;
        Directory.CreateDirectory(outputFolder);
        foreach (string library in s_libraries)
        {
            string target = System.IO.Path.Combine(outputFolder, System.IO.Path.GetFileName(library));
            if (!File.Exists(target))
            {
                File.Copy(library, target);
            }
        }
    }

    /// <summary>What <paramref name="block"/> is: from its directive if it names a kind, else from its syntax.</summary>
    public static SnippetKind Classify(CodeBlock block)
    {
        if (block.Has("skip"))
        {
            return SnippetKind.Skipped;
        }

        if (block.Has("generated"))
        {
            return SnippetKind.Generated;
        }

        if (block.Has("program"))
        {
            return SnippetKind.Program;
        }

        var root = (CompilationUnitSyntax)CSharpSyntaxTree.ParseText(block.Text, s_parseOptions).GetRoot();
        bool statements = root.Members.Any(m => m is GlobalStatementSyntax && !IsMember(m));
        bool types = root.Members.Any(m => m is BaseTypeDeclarationSyntax or DelegateDeclarationSyntax or BaseNamespaceDeclarationSyntax);
        bool members = root.Members.Any(IsMember);
        return (statements, types, members) switch
        {
            (true, true, _) => SnippetKind.Program, // Top-level statements and the types they use: a whole program.
            (_, _, true) => SnippetKind.Members,
            (true, false, false) => SnippetKind.Statements,
            _ => SnippetKind.File,
        };
    }

    /// <summary>
    /// Whether a top-level member is a class member: a method, field or property the parser took as one, or a local
    /// function or variable with a modifier only members have (<c>public void M() { }</c> parses as a local function).
    /// </summary>
    private static bool IsMember(MemberDeclarationSyntax member) => member switch
    {
        GlobalStatementSyntax { Statement: LocalFunctionStatementSyntax function } => function.Modifiers.Any(IsMemberModifier),
        GlobalStatementSyntax { Statement: LocalDeclarationStatementSyntax declaration } => declaration.Modifiers.Any(IsMemberModifier),
        GlobalStatementSyntax => false,
        BaseTypeDeclarationSyntax or DelegateDeclarationSyntax or BaseNamespaceDeclarationSyntax => false,
        _ => true,
    };

    private static bool IsMemberModifier(SyntaxToken modifier) => modifier.Kind() is
        SyntaxKind.PublicKeyword or SyntaxKind.PrivateKeyword or SyntaxKind.ProtectedKeyword or SyntaxKind.InternalKeyword
        or SyntaxKind.OverrideKeyword or SyntaxKind.VirtualKeyword or SyntaxKind.AbstractKeyword or SyntaxKind.SealedKeyword
        or SyntaxKind.NewKeyword or SyntaxKind.ReadOnlyKeyword;

    /// <summary>Compiles every C# block of <paramref name="page"/>; emits its programs if all compiled.</summary>
    public PageResult Compile(MarkdownPage page)
    {
        var problems = new List<string>();
        var kinds = page.Blocks.Where(b => b.IsCSharp).ToDictionary(b => b, Classify);
        List<CodeBlock> wevisBlocks = [.. page.Blocks.Where(b => b.Language == "wevis" && !b.Has("skip"))];
        List<AdditionalText> definitions = wevisBlocks.Count > 0 ? [new PageDefinitions(page, wevisBlocks)] : [];

        // The page: type blocks, member and statement fragments, and the hidden context, in one compilation.
        var trees = new List<SyntaxTree>
        {
            Tree(Usings([.. ConsoleUsings, .. FragmentUsings, .. page.MessagesNamespace is { } ns ? [ns] : Array.Empty<string>()]), "PageUsings.cs"),
            Tree(ContextSource(page), "SnippetContext.cs"),
        };
        foreach ((CodeBlock block, SnippetKind kind) in kinds)
        {
            string? source = kind switch
            {
                SnippetKind.File => Mapped(page, block.Line, block.Lines),
                SnippetKind.Members => Wrapped(page, block, method: false),
                SnippetKind.Statements => Wrapped(page, block, method: true),
                _ => null,
            };
            if (source is not null)
            {
                trees.Add(Tree(source, $"Snippet_L{block.Line}.cs"));
            }
        }

        Compilation compilation = RunGenerator(CreateCompilation("PageSnippets", trees, OutputKind.DynamicallyLinkedLibrary), page, definitions, problems);
        problems.AddRange(Report(compilation.GetDiagnostics()));

        // Programs: each on its own, as a Program.cs in a new console project with the page's definitions.
        var programs = new List<CompiledProgram>();
        List<CodeBlock> blocks = [.. page.Blocks];
        foreach ((CodeBlock block, SnippetKind kind) in kinds.Where(k => k.Value == SnippetKind.Program))
        {
            string name = $"{Sanitize(page.RelativePath)}_L{block.Line}";
            Compilation program = RunGenerator(
                CreateCompilation(name, [Tree(Usings(ConsoleUsings), "ConsoleUsings.cs"), Tree(Mapped(page, block.Line, block.Lines), "Program.cs")], OutputKind.ConsoleApplication),
                page,
                definitions,
                problems: null); // Reported once, with the page.
            List<string> programProblems = [.. Report(program.GetDiagnostics())];
            problems.AddRange(programProblems);
            if (programProblems.Count > 0 || problems.Count > 0)
            {
                continue;
            }

            string assembly = System.IO.Path.Combine(_outputFolder, name + ".dll");
            EmitResult(program.Emit(assembly), page, block);
            File.WriteAllText(System.IO.Path.ChangeExtension(assembly, ".runtimeconfig.json"), """
                {"runtimeOptions": {"tfm": "net10.0", "framework": {"name": "Microsoft.NETCore.App", "version": "10.0.0"}, "rollForward": "LatestMajor"}}
                """);
            int next = blocks.IndexOf(block) + 1;
            CodeBlock? output = blocks.Skip(next).TakeWhile(b => !kinds.ContainsKey(b)).FirstOrDefault(b => b.Has("output"));
            programs.Add(new CompiledProgram(block, assembly, output?.Lines, !block.Has("no-run")));
        }

        return new PageResult(problems, programs, kinds.Values.GroupBy(k => k).ToDictionary(g => g.Key, g => g.Count()));
    }

    private static void EmitResult(Microsoft.CodeAnalysis.Emit.EmitResult result, MarkdownPage page, CodeBlock block) =>
        Assert.True(result.Success, $"{page.RelativePath}({block.Line}): the program compiled but did not emit:\n" + string.Join('\n', result.Diagnostics));

    private static CSharpCompilation CreateCompilation(string name, IEnumerable<SyntaxTree> trees, OutputKind kind) =>
        CSharpCompilation.Create(
            name,
            trees,
            s_references,
            new CSharpCompilationOptions(
                kind,
                nullableContextOptions: NullableContextOptions.Enable,
                specificDiagnosticOptions: s_ignored.Select(id => KeyValuePair.Create(id, ReportDiagnostic.Suppress))));

    /// <summary>Runs the Wevis generator over <paramref name="compilation"/> with the page's definitions blocks.</summary>
    private static Compilation RunGenerator(Compilation compilation, MarkdownPage page, List<AdditionalText> definitions, List<string>? problems)
    {
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            generators: [new WevisGenerator().AsSourceGenerator()],
            additionalTexts: definitions,
            parseOptions: s_parseOptions,
            optionsProvider: new PageOptions(page.MessagesNamespace));
        driver.RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> diagnostics);
        problems?.AddRange(Report(diagnostics));
        return output;
    }

    /// <summary>The diagnostics worth failing on, each as <c>page.md(line,column): error ID: message</c>.</summary>
    private static IEnumerable<string> Report(IEnumerable<Diagnostic> diagnostics) => diagnostics
        .Where(d => d.Severity >= DiagnosticSeverity.Warning && !d.IsSuppressed)
        .Select(d =>
        {
            FileLinePositionSpan span = d.Location.GetMappedLineSpan();
            string path = span.Path.EndsWith(".md" + PageDefinitions.Suffix, StringComparison.Ordinal) ? span.Path[..^PageDefinitions.Suffix.Length] : span.Path;
            string where = span.IsValid
                ? $"{path}({span.StartLinePosition.Line + 1},{span.StartLinePosition.Character + 1})"
                : "(no location)";
            return $"{where}: {d.Severity.ToString().ToLowerInvariant()} {d.Id}: {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}";
        })
        .Distinct();

    private SyntaxTree Tree(string source, string path)
    {
        if (Environment.GetEnvironmentVariable("WEVIS_SNIPPETS_DUMP") == "1")
        {
            // To see what a page's snippets were compiled as: the generated files, beside the programs.
            string dump = System.IO.Path.Combine(_outputFolder, "generated");
            Directory.CreateDirectory(dump);
            File.WriteAllText(System.IO.Path.Combine(dump, Guid.NewGuid().ToString("N")[..6] + "-" + path), source);
        }

        return CSharpSyntaxTree.ParseText(source, s_parseOptions, path: path, encoding: Encoding.UTF8);
    }

    private static string Usings(IEnumerable<string> namespaces) =>
        string.Concat(namespaces.Select(ns => $"global using {ns};\n"));

    /// <summary><paramref name="lines"/> under a <c>#line</c> directive that maps them to the page, from <paramref name="firstLine"/>.</summary>
    private static string Mapped(MarkdownPage page, int firstLine, IEnumerable<string> lines) =>
        $"#line {firstLine} \"{page.RelativePath}\"\n{string.Join('\n', lines)}\n#line hidden\n";

    /// <summary>The class every fragment derives from: the page's hidden context code.</summary>
    private static string ContextSource(MarkdownPage page)
    {
        string baseType = page.Context.Select(c => c.Header).FirstOrDefault(h => h.Length > 0) ?? string.Empty;
        var source = new StringBuilder($"#line hidden\npartial class SnippetContext {baseType}\n{{\n");
        foreach (HiddenCode code in page.Context)
        {
            source.Append(Mapped(page, code.Line, code.Lines));
        }

        return source.Append("}\n").ToString();
    }

    /// <summary>A fragment inside a class derived from the context: its members as they are, or its statements as a method's body.</summary>
    private static string Wrapped(MarkdownPage page, CodeBlock block, bool method)
    {
        var root = (CompilationUnitSyntax)CSharpSyntaxTree.ParseText(block.Text, s_parseOptions).GetRoot();
        SyntaxTree tree = root.SyntaxTree;
        int bodyLine = root.Members.Count > 0 ? tree.GetLineSpan(root.Members[0].FullSpan).StartLinePosition.Line : block.Lines.Length;
        if (root.Usings.Count > 0)
        {
            // Comments before the first member belong to it; the using directives end on the line before it.
            bodyLine = Math.Max(bodyLine, tree.GetLineSpan(root.Usings[^1].Span).EndLinePosition.Line + 1);
        }

        // Nested in the context, so that the context's members are in reach without access modifiers.
        var source = new StringBuilder();
        source.Append(Mapped(page, block.Line, block.Lines[..bodyLine]));
        source.Append($"partial class SnippetContext\n{{\nsealed class Snippet_L{block.Line} : SnippetContext\n{{\n");
        if (method)
        {
            source.Append("async System.Threading.Tasks.Task RunSnippet()\n{\n");
        }

        source.Append(Mapped(page, block.Line + bodyLine, block.Lines[bodyLine..]));
        source.Append(method ? "}\n}\n}\n" : "}\n}\n");
        return source.ToString();
    }

    private static string Sanitize(string path) => new([.. path.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_')]);

    /// <summary>
    /// The page's <c>wevis</c> blocks as one definitions file named like the page, each line at its line on the page
    /// (the rest blank), so that the generator's diagnostics point at the page's lines.
    /// </summary>
    private sealed class PageDefinitions(MarkdownPage page, IReadOnlyList<CodeBlock> blocks) : AdditionalText
    {
        public const string Suffix = ".wevis";

        private readonly SourceText _text = SourceText.From(Text(blocks), Encoding.UTF8);

        /// <summary>The generator reads only files named <c>*.wevis</c>; <see cref="Report"/> takes the suffix off again.</summary>
        public override string Path { get; } = page.RelativePath + Suffix;

        public override SourceText GetText(CancellationToken cancellationToken = default) => _text;

        private static string Text(IReadOnlyList<CodeBlock> blocks)
        {
            var lines = new List<string>();
            foreach (CodeBlock block in blocks)
            {
                while (lines.Count < block.Line - 1)
                {
                    lines.Add(string.Empty);
                }

                lines.AddRange(block.Lines);
            }

            return string.Join('\n', lines) + "\n";
        }
    }

    /// <summary>The analyzer-config options MSBuild would give the generator: the root namespace, if the page sets one.</summary>
    private sealed class PageOptions(string? rootNamespace) : AnalyzerConfigOptionsProvider
    {
        public override AnalyzerConfigOptions GlobalOptions { get; } = new Options(rootNamespace);

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => Options.Empty;

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => Options.Empty;

        private sealed class Options(string? rootNamespace) : AnalyzerConfigOptions
        {
            public static readonly Options Empty = new(null);

            public override bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value)
            {
                value = key == WevisGenerator.RootNamespaceProperty ? rootNamespace : null;
                return value is not null;
            }
        }
    }
}
