using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Wevis.Generator.Tests.Infrastructure;

namespace Wevis.Generator.Tests;

/// <summary>
/// Every class of error in definitions and in <c>[WevisMessage]</c> records: the id, the file, the line and column
/// span of the offending text, and that the rest of the compilation is left without a cascade of errors.
/// </summary>
public class DiagnosticsTests
{
    private const string File = "/project/messages.wevis";

    /// <summary>Asserts one diagnostic with the id at the one-based line and column span, and nothing else broken.</summary>
    private static Diagnostic AssertSingle(GeneratorRun run, string id, string path, int line, int column, int endColumn)
    {
        Diagnostic diagnostic = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal(id, diagnostic.Id);
        FileLinePositionSpan span = diagnostic.Location.GetLineSpan();
        Assert.Equal(path, span.Path);
        Assert.Equal((line, column, line, endColumn), (span.StartLinePosition.Line + 1, span.StartLinePosition.Character + 1, span.EndLinePosition.Line + 1, span.EndLinePosition.Character + 1));
        Assert.Empty(run.CompilationProblems);
        return diagnostic;
    }

    /// <summary>Asserts one diagnostic in the one-line C# source, spanning the first occurrence of <paramref name="token"/>.</summary>
    private static Diagnostic AssertSingleAt(GeneratorRun run, string id, string source, string token, int? length = null)
    {
        int column = source.IndexOf(token, StringComparison.Ordinal) + 1;
        return AssertSingle(run, id, "/src/Source0.cs", 1, column, column + (length ?? token.Length));
    }

    [Fact]
    public void UnknownTypeNamesTheTypesThatExist()
    {
        GeneratorRun run = GeneratorHarness.RunDefinitions("# times\nItIs hours=integer minutes=int");

        Diagnostic d = AssertSingle(run, "WEVIS001", File, 2, 12, 19);
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        string text = d.GetMessage();
        Assert.Contains("'integer'", text, StringComparison.Ordinal);
        Assert.Contains("int, long, float, bool, str, bytes, ?f, ?d", text, StringComparison.Ordinal);
    }

    [Fact]
    public void ArgumentWithoutType()
    {
        AssertSingle(GeneratorHarness.RunDefinitions("ItIs hours minutes=int"), "WEVIS002", File, 1, 6, 11);
        AssertSingle(GeneratorHarness.RunDefinitions("ItIs hours="), "WEVIS002", File, 1, 6, 12);
    }

    [Theory]
    [InlineData("1Bad", 1, 5)]
    [InlineData("It-Is x=int", 1, 6)]
    [InlineData("Café", 1, 5)]
    public void InvalidMessageName(string line, int column, int endColumn)
    {
        AssertSingle(GeneratorHarness.RunDefinitions(line), "WEVIS003", File, 1, column, endColumn);
    }

    [Theory]
    [InlineData("ItIs 2hours=int", 6, 12)]
    [InlineData("ItIs _hours=int", 6, 12)]
    [InlineData("ItIs ho-urs=int", 6, 12)]
    [InlineData("ItIs =int", 6, 7)]
    public void InvalidArgumentName(string line, int column, int endColumn)
    {
        AssertSingle(GeneratorHarness.RunDefinitions(line), "WEVIS004", File, 1, column, endColumn);
    }

    [Fact]
    public void DuplicateMessageInOneFilePointsAtTheSecondAndNamesTheFirst()
    {
        GeneratorRun run = GeneratorHarness.RunDefinitions("ItIs hours=int\nWhoAmI\n  ItIs minutes=int");

        Diagnostic d = AssertSingle(run, "WEVIS005", File, 3, 3, 7);
        Assert.Contains("messages.wevis line 1", d.GetMessage(), StringComparison.Ordinal);
        Assert.Equal(1, d.AdditionalLocations.Single().GetLineSpan().StartLinePosition.Line + 1);
        Assert.Contains("ItIs.g.cs", run.Sources.Keys.Single(k => k.Contains("ItIs", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Fact]
    public void DuplicateMessageAcrossFilesEvenInDifferentNamespaces()
    {
        GeneratorRun run = GeneratorHarness.Run(
        [
            new DefinitionsFile("/project/b/second.wevis", "Other\nItIs minutes=int", "B"),
            new DefinitionsFile("/project/a/first.wevis", "ItIs hours=int", "A"),
        ]);

        Diagnostic d = AssertSingle(run, "WEVIS005", "/project/b/second.wevis", 2, 1, 5);
        Assert.Contains("first.wevis line 1", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void DuplicateMessageBetweenAFileAndARecord()
    {
        GeneratorRun run = GeneratorHarness.Run(
            [new DefinitionsFile(File, "Move x=int")],
            ["namespace App { [Wevis.WevisMessage] public partial record Move(int X, int Y); }"]);

        AssertSingleAt(run, "WEVIS005", "namespace App { [Wevis.WevisMessage] public partial record Move(int X, int Y); }", "Move");
    }

    [Theory]
    [InlineData("ItIs hours=int hours=int", 16, 21)]
    [InlineData("ItIs hours_left=int hoursLeft=int", 21, 30)]
    public void DuplicateArgument(string line, int column, int endColumn)
    {
        AssertSingle(GeneratorHarness.RunDefinitions(line), "WEVIS006", File, 1, column, endColumn);
    }

    [Theory]
    [InlineData("_Secret x=int", 1, 8)]
    [InlineData("WevisRegistry", 1, 14)]
    public void ReservedName(string line, int column, int endColumn)
    {
        AssertSingle(GeneratorHarness.RunDefinitions(line), "WEVIS007", File, 1, column, endColumn);
    }

    [Fact]
    public void ArgumentNamedLikeItsMessageIsReportedNotRenamed()
    {
        Diagnostic d = AssertSingle(GeneratorHarness.RunDefinitions("Name name=str"), "WEVIS008", File, 1, 6, 10);
        Assert.Contains("'Name'", d.GetMessage(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("class")]
    [InlineData("record")]
    [InlineData("var")]
    [InlineData("int")]
    public void KeywordAsMessageName(string name)
    {
        AssertSingle(GeneratorHarness.RunDefinitions(name + " x=int"), "WEVIS009", File, 1, 1, name.Length + 1);
    }

    [Fact]
    public void KeywordsAsArgumentNamesAreFineBecausePropertiesArePascalCase()
    {
        GeneratorRun run = GeneratorHarness.RunDefinitions("Thing class=int string=str");
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.CompilationProblems);
    }

    [Theory]
    [InlineData("Thing to_string=int", 7, 16)]
    [InlineData("Thing equality_contract=int", 7, 24)]
    [InlineData("Thing deconstruct=int", 7, 18)]
    public void ArgumentNamedLikeARecordMember(string line, int column, int endColumn)
    {
        AssertSingle(GeneratorHarness.RunDefinitions(line), "WEVIS010", File, 1, column, endColumn);
    }

    [Fact]
    public void WireIdCollision()
    {
        (string first, string second) = FindCollidingNames();
        GeneratorRun run = GeneratorHarness.RunDefinitions($"{first}\n{second}");

        Diagnostic d = AssertSingle(run, "WEVIS011", File, 2, 1, second.Length + 1);
        Assert.Contains(first, d.GetMessage(), StringComparison.Ordinal);
        Assert.EndsWith("; rename one of them", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidNamespaceMetadata()
    {
        GeneratorRun run = GeneratorHarness.Run([new DefinitionsFile(File, "ItIs hours=int", "My Messages")]);
        AssertSingle(run, "WEVIS012", File, 1, 1, 1);
    }

    [Theory]
    [InlineData("my-game")]
    [InlineData("2048")]
    [InlineData("Game.class")]
    public void InvalidRootNamespaceWithACodeMessage(string rootNamespace)
    {
        // The SDK makes RootNamespace the project's name with only spaces replaced: a project named my-game has "my-game".
        GeneratorRun run = GeneratorHarness.Run(
            [], ["namespace Game { [Wevis.WevisMessage] public partial record Move(int X, int Y); }"], rootNamespace: rootNamespace);

        Assert.Empty(run.CompilationProblems);
        Diagnostic d = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("WEVIS028", d.Id);
        Assert.Equal(Location.None, d.Location);
        Assert.Contains($"'{rootNamespace}'", d.GetMessage(), StringComparison.Ordinal);
        Assert.Empty(run.Sources);
    }

    [Fact]
    public void InvalidRootNamespaceWithADefinitionsFileIsReportedOnce()
    {
        GeneratorRun run = GeneratorHarness.Run([new DefinitionsFile(File, "ItIs hours=int")], rootNamespace: "my-game");

        Diagnostic d = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("WEVIS028", d.Id);
        Assert.Contains("my_game", d.GetMessage(), StringComparison.Ordinal);
        Assert.Empty(run.Sources);
        Assert.Empty(run.CompilationProblems);
    }

    [Fact]
    public void InvalidRootNamespaceWithNamespaceMetadataStillNeedsAValidRegistryNamespace()
    {
        GeneratorRun run = GeneratorHarness.Run([new DefinitionsFile(File, "ItIs hours=int", "Game")], rootNamespace: "my-game");

        Assert.Empty(run.CompilationProblems);
        Assert.Equal("WEVIS028", Assert.Single(run.GeneratorDiagnostics).Id);
        Assert.Empty(run.Sources);
    }

    [Fact]
    public void RuntimeNotReferenced()
    {
        GeneratorRun run = GeneratorHarness.Run([new DefinitionsFile(File, "ItIs hours=int")], referenceRuntime: false);

        Diagnostic d = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("WEVIS013", d.Id);
        Assert.Empty(run.Sources);
        Assert.Empty(run.CompilationProblems);
    }

    [Theory]
    [InlineData("[Wevis.WevisMessage] public record Move(int X);")]
    [InlineData("[Wevis.WevisMessage] public partial class Move { }")]
    public void CodeMessageMustBeAPartialRecordClass(string declaration)
    {
        GeneratorRun run = GeneratorHarness.Run([], [declaration]);
        AssertSingleAt(run, "WEVIS020", declaration, "Move");
    }

    [Theory]
    [InlineData("System.Collections.Generic.List<int>")]
    [InlineData("string?")]
    [InlineData("float")]
    [InlineData("decimal")]
    public void UnsupportedArgumentType(string type)
    {
        string source = "[Wevis.WevisMessage] public partial record M(" + type + " Value);";
        GeneratorRun run = GeneratorHarness.Run([], [source]);

        Diagnostic d = AssertSingleAt(run, "WEVIS021", source, type);
        Assert.Contains("int, long, double, bool, string, byte[], float[], double[]", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void CodeMessageCannotBeGenericOrNested()
    {
        const string generic = "[Wevis.WevisMessage] public partial record M<T>(int X);";
        AssertSingleAt(GeneratorHarness.Run([], [generic]), "WEVIS022", generic, "M<", length: 1);
        const string nested = "public partial class Outer { [Wevis.WevisMessage] public partial record M(int X); }";
        AssertSingleAt(GeneratorHarness.Run([], [nested]), "WEVIS022", nested, "M(", length: 1);
    }

    [Theory]
    [InlineData("public int Y { get; init; }")]
    [InlineData("public int Y { get; set; }")]
    [InlineData("public int Y { get; } = 3;")]
    public void PropertyHoldingStateOutsideThePrimaryConstructorIsAWarning(string member)
    {
        string source = "[Wevis.WevisMessage] public partial record M(int X) { " + member + " }";
        GeneratorRun run = GeneratorHarness.Run([], [source]);

        Diagnostic d = AssertSingleAt(run, "WEVIS023", source, "Y ", length: 1);
        Assert.Equal(DiagnosticSeverity.Warning, d.Severity);
        Assert.Equal("Property 'Y' of message 'M' is not a primary constructor parameter, so it is not sent", d.GetMessage());
        Assert.Contains("M.g.cs", run.Sources.Keys);
    }

    [Theory]
    [InlineData("public int Y;")]
    [InlineData("public readonly int Y = 3;")]
    [InlineData("public string Y = \"\";")]
    [InlineData("internal int[] Y = new int[0];")]
    public void FieldOutsideThePrimaryConstructorIsAWarning(string member)
    {
        string source = "[Wevis.WevisMessage] public partial record M(int X) { " + member + " }";
        GeneratorRun run = GeneratorHarness.Run([], [source]);

        Diagnostic d = AssertSingleAt(run, "WEVIS023", source, "Y", length: 1);
        Assert.Equal(DiagnosticSeverity.Warning, d.Severity);
        Assert.Equal("Field 'Y' of message 'M' is not a primary constructor parameter, so it is not sent", d.GetMessage());
        Assert.Contains("M.g.cs", run.Sources.Keys);
    }

    [Fact]
    public void EachFieldOfOneDeclarationIsReportedAtItsOwnName()
    {
        const string source = "[Wevis.WevisMessage] public partial record M(int X) { public int First, Second = 2; }";
        GeneratorRun run = GeneratorHarness.Run([], [source]);

        Assert.Equal(
            new[]
            {
                ("WEVIS023", At(source, "First"), "Field 'First' of message 'M' is not a primary constructor parameter, so it is not sent"),
                ("WEVIS023", At(source, "Second"), "Field 'Second' of message 'M' is not a primary constructor parameter, so it is not sent"),
            },
            Reported(run));
        Assert.Empty(run.CompilationProblems);
    }

    [Theory]
    [InlineData("private int _y; public int Y { get => _y; init => _y = value; }")]
    [InlineData("private int _y; public int Y { get { return this._y; } set { _y = value; } }")]
    [InlineData("public int Y { get => _y; init => _y = value; } private int _y = 3;")]
    public void APropertyAndTheFieldBehindItAreReportedOnceAtTheProperty(string members)
    {
        // The field is the property's state, written by hand: one member to the user, as an auto-property is.
        string source = "[Wevis.WevisMessage] public partial record M(int X) { " + members + " }";
        GeneratorRun run = GeneratorHarness.Run([], [source]);

        Assert.Equal(
            new[] { ("WEVIS023", At(source, "Y "), "Property 'Y' of message 'M' is not a primary constructor parameter, so it is not sent") },
            Reported(run));
        Assert.Empty(run.CompilationProblems);
    }

    [Fact]
    public void AFieldBehindAPropertyInAnotherPartOfTheRecordIsNotReportedAgain()
    {
        string[] sources =
        [
            "[Wevis.WevisMessage] public partial record M(int X) { private int _y; }",
            "public partial record M { public int Y { get => _y; set => _y = value; } }",
        ];
        GeneratorRun run = GeneratorHarness.Run([], sources);

        Diagnostic d = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("Property 'Y' of message 'M' is not a primary constructor parameter, so it is not sent", d.GetMessage());
        Assert.Equal("/src/Source1.cs", d.Location.GetLineSpan().Path);
        Assert.Empty(run.CompilationProblems);
    }

    [Fact]
    public void AFieldReadByAComputedPropertyIsReportedAtTheField()
    {
        // The computed property is computed again from the field, so the state lost on the way is the field's.
        const string source = "[Wevis.WevisMessage] public partial record M(int X) { private int _y = 3; public int Y => _y; public int Z { get { return _y; } } }";
        GeneratorRun run = GeneratorHarness.Run([], [source]);

        Assert.Equal(
            new[] { ("WEVIS023", At(source, "_y"), "Field '_y' of message 'M' is not a primary constructor parameter, so it is not sent") },
            Reported(run));
        Assert.Empty(run.CompilationProblems);
    }

    /// <summary>The one-based columns of the first occurrence of <paramref name="token"/> in a one-line source, without a trailing space.</summary>
    private static (int Start, int End) At(string source, string token)
    {
        int column = source.IndexOf(token, StringComparison.Ordinal) + 1;
        return (column, column + token.TrimEnd().Length);
    }

    /// <summary>The generator's diagnostics in a one-line source, in order: id, one-based columns, message.</summary>
    private static (string Id, (int Start, int End) Columns, string Message)[] Reported(GeneratorRun run) =>
        [.. run.GeneratorDiagnostics
            .Select(d => (d.Id, (d.Location.GetLineSpan().StartLinePosition.Character + 1, d.Location.GetLineSpan().EndLinePosition.Character + 1), d.GetMessage()))
            .OrderBy(d => d.Item2.Item1)];

    [Fact]
    public void ComputedPropertiesAndConstOrStaticMembersAreNotAWarning()
    {
        // Computed from the arguments, they are computed again where the message arrives: nothing is lost. A const
        // or static member is not the message's to send.
        const string source = """
            [Wevis.WevisMessage]
            public partial record Sum(int A, int B)
            {
                public const int Limit = 100;
                public static int Made;
                internal static readonly string Name = "sum";
                public int Total => A + B;
                public bool IsZero { get { return A + B == 0; } }
                public static int Zero { get; set; }
            }
            """;
        GeneratorRun run = GeneratorHarness.Run([], [source]);

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.CompilationProblems);
    }

    [Fact]
    public void PropertyNotSentIsReportedInTheCSharpSourceSoPragmasApply()
    {
        const string source = """
            [Wevis.WevisMessage]
            public partial record M(int X)
            {
            #pragma warning disable WEVIS023 // a cache, not part of the message
                public int Seen { get; set; }
            #pragma warning restore WEVIS023
                public int Other { get; set; }
            }
            """;
        GeneratorRun run = GeneratorHarness.Run([], [source]);

        // The compiler keeps a diagnostic silenced by #pragma, marked suppressed (for /errorlog), and prints it no more.
        Assert.Equal(2, run.GeneratorDiagnostics.Length);
        Assert.All(run.GeneratorDiagnostics, d => Assert.Equal("WEVIS023", d.Id));
        Assert.All(run.GeneratorDiagnostics, d => Assert.Same(run.Input.SyntaxTrees.Single(), d.Location.SourceTree));
        Diagnostic seen = Assert.Single(run.GeneratorDiagnostics, d => d.GetMessage().Contains("'Seen'", StringComparison.Ordinal));
        Diagnostic other = Assert.Single(run.GeneratorDiagnostics, d => d.GetMessage().Contains("'Other'", StringComparison.Ordinal));
        Assert.True(seen.IsSuppressed, "#pragma warning disable WEVIS023 did not suppress it");
        Assert.False(other.IsSuppressed);
        Assert.Equal(7, other.Location.GetLineSpan().StartLinePosition.Line + 1);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void PropertyNotSentFollowsEditorConfigAndNoWarn(bool editorConfig)
    {
        // dotnet_diagnostic.WEVIS023.severity = none in an .editorconfig section for the file, or <NoWarn>WEVIS023</NoWarn>.
        const string source = "[Wevis.WevisMessage] public partial record M(int X) { public int Y { get; init; } }";
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation([source]);
        compilation = editorConfig
            ? compilation.WithOptions(compilation.Options.WithSyntaxTreeOptionsProvider(new SeverityPerTree(compilation.SyntaxTrees.Single(), "WEVIS023")))
            : compilation.WithOptions(compilation.Options.WithSpecificDiagnosticOptions(
                compilation.Options.SpecificDiagnosticOptions.SetItem("WEVIS023", ReportDiagnostic.Suppress)));

        GeneratorRun run = GeneratorHarness.Run(GeneratorHarness.CreateDriver([]), compilation);

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Contains("M.g.cs", run.Sources.Keys);
    }

    /// <summary>What the compiler makes of <c>[Source0.cs] dotnet_diagnostic.ID.severity = none</c> in an .editorconfig.</summary>
    private sealed class SeverityPerTree(SyntaxTree tree, string id) : SyntaxTreeOptionsProvider
    {
        public override GeneratedKind IsGenerated(SyntaxTree tree, CancellationToken cancellationToken) => GeneratedKind.Unknown;

        public override bool TryGetDiagnosticValue(SyntaxTree tree1, string diagnosticId, CancellationToken cancellationToken, out ReportDiagnostic severity)
        {
            severity = ReportDiagnostic.Suppress;
            return tree1 == tree && diagnosticId == id;
        }

        public override bool TryGetGlobalDiagnosticValue(string diagnosticId, CancellationToken cancellationToken, out ReportDiagnostic severity)
        {
            severity = ReportDiagnostic.Default;
            return false;
        }
    }

    [Fact]
    public void ValidMessagesOfAFileWithErrorsAreStillGeneratedAndUsable()
    {
        GeneratorRun run = GeneratorHarness.RunDefinitions(
            "Good x=int\nBad y=nope\nAlsoGood",
            "namespace TestApp { static class Use { static object M() => new Good(1) with { X = 2 }; static object N() => new AlsoGood(); } }");

        Assert.Equal("WEVIS001", Assert.Single(run.GeneratorDiagnostics).Id);
        Assert.Empty(run.CompilationProblems);
    }

    [Theory]
    [InlineData("clients: Hello", 1, 9)]
    [InlineData("Server: Hello", 1, 8)]
    [InlineData("client:", 1, 8)]
    public void InvalidDirection(string line, int column, int endColumn)
    {
        AssertSingle(GeneratorHarness.RunDefinitions(line), "WEVIS014", File, 1, column, endColumn);
    }

    [Theory]
    [InlineData("Hello ->", 7, 9)]
    [InlineData("Hello -> Hi Bye", 13, 16)]
    [InlineData("Hello -> Hi |", 13, 14)]
    [InlineData("Hello -> | Hi", 10, 11)]
    [InlineData("Hello -> Hi -> Bye", 13, 15)]
    [InlineData("Hello -> Hi x=int", 13, 18)]
    [InlineData("Hello x=int | Hi", 13, 14)]
    public void InvalidReplies(string line, int column, int endColumn)
    {
        AssertSingle(GeneratorHarness.RunDefinitions(line + "\nHi\nBye"), "WEVIS015", File, 1, column, endColumn);
    }

    [Fact]
    public void AReplyMustBeAMessageOfTheProject()
    {
        Diagnostic d = AssertSingle(GeneratorHarness.RunDefinitions("client: Hello -> Hi | Nobody\nHi"), "WEVIS016", File, 1, 23, 29);
        Assert.Contains("'Nobody'", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void AReplyMayBeDefinedInAnotherFile()
    {
        GeneratorRun run = GeneratorHarness.Run(
        [
            new DefinitionsFile("/project/requests.wevis", "client: Hello -> Hi"),
            new DefinitionsFile("/project/replies.wevis", "server: Hi", "Other"),
        ]);

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.CompilationProblems);
    }

    [Fact]
    public void TheServerCannotSendARequest()
    {
        AssertSingle(GeneratorHarness.RunDefinitions("server: Hello -> Hi\nHi"), "WEVIS017", File, 1, 15, 17);
    }

    [Fact]
    public void AReplyCannotBeAClientMessage()
    {
        Diagnostic d = AssertSingle(GeneratorHarness.RunDefinitions("client: Hello -> Hi\nclient: Hi"), "WEVIS018", File, 1, 18, 20);
        Assert.Contains("'Hi' cannot answer 'Hello'", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void ARequestAnsweredByARequestThatIsLeftOutIsLeftOutToo()
    {
        GeneratorRun run = GeneratorHarness.RunDefinitions("client: First -> Second\nSecond -> Nobody");

        Assert.Equal("WEVIS016", Assert.Single(run.GeneratorDiagnostics).Id);
        Assert.Empty(run.CompilationProblems);
        Assert.DoesNotContain(run.Sources.Keys, k => k.Contains("First", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Hello name=str(0)", 15, 18)]
    [InlineData("Hello name=str(x)", 15, 18)]
    [InlineData("Hello name=str(32", 15, 18)]
    [InlineData("Hello name=str()", 15, 17)]
    [InlineData("Hello name=str(-1)", 15, 19)]
    [InlineData("Hello name=str(99999999999)", 15, 28)]
    public void InvalidBound(string line, int column, int endColumn)
    {
        AssertSingle(GeneratorHarness.RunDefinitions(line), "WEVIS019", File, 1, column, endColumn);
    }

    [Theory]
    [InlineData("Hello n=int(4)", 12, 15)]
    [InlineData("Hello flag=bool(1)", 16, 19)]
    public void BoundOnAFixedSizeType(string line, int column, int endColumn)
    {
        AssertSingle(GeneratorHarness.RunDefinitions(line), "WEVIS024", File, 1, column, endColumn);
    }

    [Fact]
    public void UnknownDirective()
    {
        AssertSingle(GeneratorHarness.RunDefinitions("# header\n@versio 2\nHello"), "WEVIS025", File, 2, 1, 8);
    }

    [Theory]
    [InlineData("@version two", 1, 10, 13)]
    [InlineData("@version 0", 1, 10, 11)]
    [InlineData("@version", 1, 1, 9)]
    [InlineData("@version 1 2", 1, 12, 13)]
    [InlineData("@version 1\n@version 2", 2, 10, 11)]
    public void InvalidVersion(string text, int line, int column, int endColumn)
    {
        AssertSingle(GeneratorHarness.RunDefinitions(text + "\nHello"), "WEVIS026", File, line, column, endColumn);
    }

    [Fact]
    public void DuplicateReply()
    {
        AssertSingle(GeneratorHarness.RunDefinitions("Hello -> Hi | Hi\nHi"), "WEVIS027", File, 1, 15, 17);
    }

    [Fact]
    public void CodeMessageRepliesMustBeMessages()
    {
        const string source = "[Wevis.WevisMessage(Wevis.MessageDirection.ClientToServer, Replies = new[] { typeof(string) })] public partial record Ask(int X);";
        Diagnostic d = AssertSingleAt(GeneratorHarness.Run([], [source]), "WEVIS016", source, "typeof(string)");
        Assert.Contains("Reply 'string' of request 'Ask'", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void CodeMessageReplyCannotBeAClientMessage()
    {
        const string source = "[Wevis.WevisMessage(Replies = [typeof(Yes)])] public partial record Ask(int X); "
            + "[Wevis.WevisMessage(Wevis.MessageDirection.ClientToServer)] public partial record Yes;";
        AssertSingleAt(GeneratorHarness.Run([], [source]), "WEVIS018", source, "typeof(Yes)");
    }

    [Fact]
    public void CodeMessageSentByTheServerCannotBeARequest()
    {
        const string source = "[Wevis.WevisMessage(Wevis.MessageDirection.ServerToClient, Replies = [typeof(Yes)])] public partial record Ask(int X); "
            + "[Wevis.WevisMessage] public partial record Yes;";
        AssertSingleAt(GeneratorHarness.Run([], [source]), "WEVIS017", source, "Replies = [typeof(Yes)]");
    }

    [Fact]
    public void CodeMessageDirectionMustBeOneOfTheThree()
    {
        const string source = "[Wevis.WevisMessage((Wevis.MessageDirection)7)] public partial record Ask(int X);";
        AssertSingleAt(GeneratorHarness.Run([], [source]), "WEVIS014", source, "(Wevis.MessageDirection)7");
    }

    [Theory]
    [InlineData("[Wevis.WevisBound(0)] string Name", "WEVIS019", "Wevis.WevisBound(0)")]
    [InlineData("[Wevis.WevisBound(4)] int Count", "WEVIS024", "Wevis.WevisBound(4)")]
    public void CodeMessageBounds(string parameter, string id, string token)
    {
        string source = "[Wevis.WevisMessage] public partial record Ask(" + parameter + ");";
        AssertSingleAt(GeneratorHarness.Run([], [source]), id, source, token);
    }

    /// <summary>Two distinct message names with the same 31-bit FNV-1a hash, found by the birthday bound.</summary>
    internal static (string First, string Second) FindCollidingNames()
    {
        var seen = new Dictionary<int, string>();
        for (int i = 0; ; i++)
        {
            string name = "M" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            int id = WireNames.WireId(name);
            if (seen.TryGetValue(id, out string? first))
            {
                return string.CompareOrdinal(first, name) < 0 ? (first, name) : (name, first);
            }

            seen.Add(id, name);
        }
    }
}
