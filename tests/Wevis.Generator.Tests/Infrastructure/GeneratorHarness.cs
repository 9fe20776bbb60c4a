using System.Collections.Immutable;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace Wevis.Generator.Tests.Infrastructure;

/// <summary>A definitions file handed to the generator, with its optional <c>Namespace</c> metadata.</summary>
internal sealed record DefinitionsFile(string Path, string Text, string? Namespace = null);

/// <summary>The outcome of one generator run over a test compilation.</summary>
internal sealed record GeneratorRun(
    GeneratorDriver Driver,
    Compilation Input,
    Compilation Output,
    ImmutableArray<Diagnostic> GeneratorDiagnostics,
    GeneratorDriverRunResult Result)
{
    /// <summary>Generated sources by hint name.</summary>
    public IReadOnlyDictionary<string, string> Sources => Result.Results.Single().GeneratedSources
        .ToDictionary(s => s.HintName, s => s.SourceText.ToString());

    /// <summary>Compiler errors and warnings in the output compilation (user code plus generated code).</summary>
    public IReadOnlyList<Diagnostic> CompilationProblems => Output.GetDiagnostics()
        .Where(d => d.Severity >= DiagnosticSeverity.Warning)
        .ToList();
}

/// <summary>
/// Runs <see cref="WevisGenerator"/> the way the compiler does: over a compilation with AdditionalFiles and
/// analyzer-config options, with step tracking on so tests can check caching.
/// </summary>
internal static class GeneratorHarness
{
    public const string RootNamespace = "TestApp";

    private static readonly ImmutableArray<MetadataReference> s_references =
    [
        .. Basic.Reference.Assemblies.Net100.References.All,
        MetadataReference.CreateFromFile(typeof(IMessage).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(MessagePack.MessagePackWriter).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(MessagePack.MessagePackObjectAttribute).Assembly.Location),
    ];

    public static CSharpParseOptions ParseOptions(LanguageVersion version = LanguageVersion.Latest) =>
        CSharpParseOptions.Default.WithLanguageVersion(version);

    public static CSharpCompilation CreateCompilation(
        IEnumerable<string> sources,
        bool referenceRuntime = true,
        LanguageVersion version = LanguageVersion.Latest,
        IEnumerable<MetadataReference>? extraReferences = null)
    {
        CSharpParseOptions parseOptions = ParseOptions(version);
        IEnumerable<SyntaxTree> trees = sources.Select((source, i) =>
            CSharpSyntaxTree.ParseText(source, parseOptions, path: $"/src/Source{i}.cs", encoding: Encoding.UTF8));
        IEnumerable<MetadataReference> references = referenceRuntime
            ? s_references
            : Basic.Reference.Assemblies.Net100.References.All;
        references = references.Concat(extraReferences ?? []);
        return CSharpCompilation.Create(
            "TestAssembly",
            trees,
            references,
            new CSharpCompilationOptions(
                OutputKind.DynamicallyLinkedLibrary,
                nullableContextOptions: NullableContextOptions.Enable,
                generalDiagnosticOption: ReportDiagnostic.Default,
                // As the SDK does (NoWarn 1701;1702): reference-assembly version unification is not a problem.
                specificDiagnosticOptions: [new("CS1701", ReportDiagnostic.Suppress), new("CS1702", ReportDiagnostic.Suppress)]));
    }

    public static GeneratorDriver CreateDriver(
        IEnumerable<DefinitionsFile> files,
        string? rootNamespace = RootNamespace,
        bool protocolAssembly = false,
        LanguageVersion version = LanguageVersion.Latest,
        string? registryNamespace = null)
    {
        List<DefinitionsFile> fileList = files.ToList();
        return CSharpGeneratorDriver.Create(
            generators: [new WevisGenerator().AsSourceGenerator()],
            additionalTexts: fileList.Select(f => (AdditionalText)new InMemoryAdditionalText(f.Path, f.Text)),
            parseOptions: ParseOptions(version),
            optionsProvider: new TestOptionsProvider(fileList, rootNamespace, protocolAssembly, registryNamespace),
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
    }

    public static GeneratorRun Run(
        IEnumerable<DefinitionsFile> files,
        IEnumerable<string>? sources = null,
        string? rootNamespace = RootNamespace,
        bool referenceRuntime = true,
        bool protocolAssembly = false,
        LanguageVersion version = LanguageVersion.Latest,
        IEnumerable<MetadataReference>? extraReferences = null,
        string? registryNamespace = null)
    {
        CSharpCompilation compilation = CreateCompilation(sources ?? [], referenceRuntime, version, extraReferences);
        GeneratorDriver driver = CreateDriver(files, rootNamespace, protocolAssembly, version, registryNamespace);
        return Run(driver, compilation);
    }

    public static GeneratorRun Run(GeneratorDriver driver, Compilation compilation)
    {
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> diagnostics);
        return new GeneratorRun(driver, compilation, output, diagnostics, driver.GetRunResult());
    }

    /// <summary>Runs with one definitions file at <c>/project/messages.wevis</c>.</summary>
    public static GeneratorRun RunDefinitions(string definitions, params string[] sources) =>
        Run([new DefinitionsFile("/project/messages.wevis", definitions)], sources);

    internal sealed class InMemoryAdditionalText(string path, string text) : AdditionalText
    {
        private readonly SourceText _text = SourceText.From(text, Encoding.UTF8);

        public override string Path { get; } = path;

        public override SourceText GetText(CancellationToken cancellationToken = default) => _text;
    }

    private sealed class TestOptionsProvider : AnalyzerConfigOptionsProvider
    {
        private readonly Dictionary<string, DictionaryOptions> _fileOptions;

        public TestOptionsProvider(IEnumerable<DefinitionsFile> files, string? rootNamespace, bool protocolAssembly, string? registryNamespace)
        {
            var global = new Dictionary<string, string>();
            if (registryNamespace is not null)
            {
                global[WevisGenerator.RegistryNamespaceProperty] = registryNamespace;
            }

            if (rootNamespace is not null)
            {
                global[WevisGenerator.RootNamespaceProperty] = rootNamespace;
            }

            if (protocolAssembly)
            {
                global[WevisGenerator.ProtocolAssemblyProperty] = "true";
            }

            GlobalOptions = new DictionaryOptions(global);
            _fileOptions = files.ToDictionary(
                f => f.Path,
                f => new DictionaryOptions(f.Namespace is null
                    ? []
                    : new Dictionary<string, string> { [WevisGenerator.NamespaceMetadata] = f.Namespace }));
        }

        public override AnalyzerConfigOptions GlobalOptions { get; }

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => DictionaryOptions.Empty;

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) =>
            _fileOptions.TryGetValue(textFile.Path, out DictionaryOptions? options) ? options : DictionaryOptions.Empty;
    }

    private sealed class DictionaryOptions(Dictionary<string, string> values) : AnalyzerConfigOptions
    {
        public static DictionaryOptions Empty { get; } = new([]);

        public override bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value) =>
            values.TryGetValue(key, out value);
    }
}
