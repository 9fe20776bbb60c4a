using Microsoft.CodeAnalysis;
using Wevis.Generator.Tests.Infrastructure;

namespace Wevis.Generator.Tests;

/// <summary>
/// The evolution check: a definitions file is compared with its lock file (the definitions as published), and each
/// edit that would break programs built from the published definitions is an error at the text that makes it,
/// unless the version is raised. Adding messages, renaming arguments, moving lines and comments are fine.
/// </summary>
public class EvolutionTests
{
    private const string Definitions = "/project/game.wevis";
    private const string Lock = "/project/game.wevis.lock";

    private const string Published = """
        # The game's messages
        @version 3
        client: Ask question=str(32) -> Answer | Refusal
        server: Answer first=int second=long
        server: Refusal reason=str
        client: Heartbeat count=int
        Chat text=str
        """;

    private static GeneratorRun Run(string definitions, string? published = Published) => GeneratorHarness.Run(
        published is null
            ? [new DefinitionsFile(Definitions, definitions)]
            : [new DefinitionsFile(Definitions, definitions), new DefinitionsFile(Lock, published)]);

    /// <summary>Asserts one error with the id, at the one-based line and column span of <paramref name="path"/>.</summary>
    private static Diagnostic AssertBreaks(GeneratorRun run, string id, int line, int column, int endColumn, string path = Definitions)
    {
        Diagnostic diagnostic = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        FileLinePositionSpan span = diagnostic.Location.GetLineSpan();
        Assert.Equal(path, span.Path);
        Assert.Equal(
            (line, column, line, endColumn),
            (span.StartLinePosition.Line + 1, span.StartLinePosition.Character + 1, span.EndLinePosition.Line + 1, span.EndLinePosition.Character + 1));
        Assert.Contains("raise @version to 4, or, if they were never published, update game.wevis.lock", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Empty(run.CompilationProblems);
        return diagnostic;
    }

    private static string Edit(string from, string to)
    {
        Assert.Contains(from, Published, StringComparison.Ordinal);
        return Published.Replace(from, to, StringComparison.Ordinal);
    }

    [Fact]
    public void WithoutALockFileNothingIsCompared()
    {
        Assert.Empty(Run("client: Ask question=int", published: null).GeneratorDiagnostics);
    }

    [Fact]
    public void TheDefinitionsAsPublishedPass()
    {
        Assert.Empty(Run(Published).GeneratorDiagnostics);
    }

    [Theory]
    [InlineData("Chat text=str", "Chat text=str\nserver: News headline=str(80)")]
    [InlineData("server: Answer first=int second=long", "server: Answer one=int two=long")]
    [InlineData("# The game's messages", "# Moved lines and new comments\n\n")]
    [InlineData("client: Heartbeat count=int\nChat text=str", "Chat text=str  # chat\nclient: Heartbeat count=int")]
    public void EditsThatBreakNothingPass(string from, string to)
    {
        GeneratorRun run = Run(Edit(from, to));

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.CompilationProblems);
    }

    [Fact]
    public void RemovingAMessageIsAnErrorAtItsPublishedLine()
    {
        Diagnostic d = AssertBreaks(Run(Edit("Chat text=str", string.Empty)), "WEVIS030", 7, 1, 5, Lock);

        Assert.StartsWith("Message 'Chat' is published in game.wevis.lock line 7 but no longer defined", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void RenamingAMessageIsAnErrorAtItsNewName()
    {
        Diagnostic d = AssertBreaks(Run(Edit("client: Heartbeat count=int", "client: Pulse count=int")), "WEVIS031", 6, 9, 14);

        Assert.StartsWith("Message 'Pulse' looks like published message 'Heartbeat' (game.wevis.lock line 6) renamed", d.GetMessage(), StringComparison.Ordinal);
        Assert.Equal(Lock, d.AdditionalLocations.Single().GetLineSpan().Path);
    }

    [Fact]
    public void ChangingAnArgumentsTypeIsAnErrorAtTheType()
    {
        Diagnostic d = AssertBreaks(Run(Edit("second=long", "second=int")), "WEVIS032", 4, 33, 36);

        Assert.StartsWith("Argument 'second' of 'Answer' was long in game.wevis.lock line 4 and is now int", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void SwappingArgumentsIsAnErrorEvenWhenTheirTypesAgree()
    {
        Diagnostic d = AssertBreaks(Run(Edit("first=int second=long", "second=long first=int")), "WEVIS033", 4, 16, 22);

        Assert.StartsWith("Argument 'second' of 'Answer' was argument 2 in game.wevis.lock line 4 and is now argument 1", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void AddingAnArgumentIsAnErrorAtIt()
    {
        Diagnostic d = AssertBreaks(Run(Edit("client: Heartbeat count=int", "client: Heartbeat count=int late=bool")), "WEVIS034", 6, 29, 33);

        Assert.StartsWith("Message 'Heartbeat' has a new argument 'late'", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void RemovingAnArgumentIsAnErrorAtTheMessage()
    {
        Diagnostic d = AssertBreaks(Run(Edit("first=int second=long", "first=int")), "WEVIS034", 4, 9, 15);

        Assert.StartsWith("Message 'Answer' no longer has argument 'second'", d.GetMessage(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("client: Heartbeat count=int", "server: Heartbeat count=int", 6, 1, 8)]
    [InlineData("client: Heartbeat count=int", "Heartbeat count=int", 6, 1, 10)]
    [InlineData("Chat text=str", "client: Chat text=str", 7, 1, 8)]
    public void ChangingWhoSendsAMessageIsAnErrorAtItsDirection(string from, string to, int line, int column, int endColumn)
    {
        AssertBreaks(Run(Edit(from, to)), "WEVIS035", line, column, endColumn);
    }

    [Theory]
    [InlineData("-> Answer | Refusal", "-> Answer", 3, 30, 32)]
    [InlineData("-> Answer | Refusal", "-> Answer | Refusal | Chat", 3, 30, 32)]
    [InlineData(" -> Answer | Refusal", "", 3, 9, 12)]
    public void ChangingARequestsRepliesIsAnErrorAtTheArrow(string from, string to, int line, int column, int endColumn)
    {
        AssertBreaks(Run(Edit(from, to)), "WEVIS036", line, column, endColumn);
    }

    [Fact]
    public void MakingAMessageARequestIsAnErrorToo()
    {
        Diagnostic d = AssertBreaks(Run(Edit("client: Heartbeat count=int", "client: Heartbeat count=int -> Answer")), "WEVIS036", 6, 29, 31);

        Assert.StartsWith("The replies of 'Heartbeat' were none in game.wevis.lock line 6 and are now '-> Answer'", d.GetMessage(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("question=str(32)", "question=str(64)")]
    [InlineData("question=str(32)", "question=str")]
    public void ChangingABoundIsAnErrorAtTheType(string from, string to)
    {
        Diagnostic d = AssertBreaks(Run(Edit(from, to)), "WEVIS037", 3, 22, 22 + to.Length - "question=".Length);

        Assert.StartsWith($"Argument 'question' of 'Ask' was str(32) in game.wevis.lock line 3 and is now {to["question=".Length..]}", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void EachBreakingEditIsReportedAtItsOwnLine()
    {
        string edited = Edit("second=long", "second=int")
            .Replace("client: Heartbeat", "server: Heartbeat", StringComparison.Ordinal)
            .Replace("Chat text=str", string.Empty, StringComparison.Ordinal);

        GeneratorRun run = Run(edited);

        Assert.Equal(
            [("WEVIS030", 7), ("WEVIS032", 4), ("WEVIS035", 6)],
            run.GeneratorDiagnostics.Select(d => (d.Id, d.Location.GetLineSpan().StartLinePosition.Line + 1)).Order());
    }

    [Fact]
    public void RaisingTheVersionAcceptsEveryEdit()
    {
        string edited = Edit("@version 3", "@version 4")
            .Replace("second=long", "second=int", StringComparison.Ordinal)
            .Replace("client: Heartbeat count=int", "server: Pulse count=int late=bool", StringComparison.Ordinal)
            .Replace("-> Answer | Refusal", "-> Answer", StringComparison.Ordinal)
            .Replace("Chat text=str", string.Empty, StringComparison.Ordinal);

        GeneratorRun run = Run(edited);

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.CompilationProblems);
    }

    [Fact]
    public void LoweringTheVersionIsAnError()
    {
        Diagnostic d = Assert.Single(Run(Edit("@version 3", "@version 2")).GeneratorDiagnostics);

        Assert.Equal("WEVIS038", d.Id);
        Assert.Equal((2, 10), (d.Location.GetLineSpan().StartLinePosition.Line + 1, d.Location.GetLineSpan().StartLinePosition.Character + 1));
        Assert.Equal("The definitions' version is 2, lower than version 3 in game.wevis.lock; a version only goes up", d.GetMessage());
    }

    [Fact]
    public void AFileWithErrorsOfItsOwnIsNotCompared()
    {
        GeneratorRun run = Run(Edit("second=long", "second=longer"));

        Assert.Equal("WEVIS001", Assert.Single(run.GeneratorDiagnostics).Id);
    }

    [Fact]
    public void ALockFileBelongsToTheDefinitionsFileItIsNamedAfter()
    {
        GeneratorRun run = GeneratorHarness.Run(
        [
            new DefinitionsFile(Definitions, "client: Ask question=str(32)"),
            new DefinitionsFile("/project/other/game.wevis.lock", Published),
            new DefinitionsFile("/project/other.wevis.lock", Published),
        ]);

        Assert.Empty(run.GeneratorDiagnostics);
    }
}
