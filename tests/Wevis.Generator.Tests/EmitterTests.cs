using Wevis.Generator.Tests.Infrastructure;

namespace Wevis.Generator.Tests;

/// <summary>Golden-file tests of the generated source (see <see cref="Snapshot"/> to accept new output).</summary>
public class EmitterTests
{
    [Fact]
    public void ExampleDefinitions()
    {
        GeneratorRun run = GeneratorHarness.Run(
            [new DefinitionsFile("/project/definitions/example.wevis", File.ReadAllText("example.wevis"), "Example")]);

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.CompilationProblems);
        Assert.Equal(
            [
                "WevisRegistry.g.cs",
                "example.ItIs.g.cs",
                "example.PleaseMayIHaveSomeFloats.g.cs",
                "example.ServerReady.g.cs",
                "example.SomeFloats.g.cs",
                "example.WhatTimeIsIt.g.cs",
                "example.WhoAmI.g.cs",
                "example.YouAre.g.cs",
            ],
            run.Sources.Keys.Order(StringComparer.Ordinal));
        foreach ((string hintName, string source) in run.Sources)
        {
            Snapshot.Match(source, "Example#" + hintName);
        }
    }

    [Fact]
    public void DefinitionsUsingEveryFeature()
    {
        GeneratorRun run = GeneratorHarness.Run(
            [new DefinitionsFile("/project/definitions/lobby.wevis", File.ReadAllText("lobby.wevis"), "Lobby")]);

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.CompilationProblems);
        Assert.Equal(
            [
                "WevisRegistry.g.cs",
                "lobby.Heartbeat.g.cs",
                "lobby.Join.g.cs",
                "lobby.Joined.g.cs",
                "lobby.Leave.g.cs",
                "lobby.Left.g.cs",
                "lobby.RoomFull.g.cs",
                "lobby.Talk.g.cs",
                "lobby.Talked.g.cs",
                "lobby.Terrain.g.cs",
            ],
            run.Sources.Keys.Order(StringComparer.Ordinal));
        foreach ((string hintName, string source) in run.Sources)
        {
            Snapshot.Match(source, "Lobby#" + hintName);
        }
    }

    [Fact]
    public void CodeDefinedMessages()
    {
        const string source = """
            using Wevis;

            namespace Game.Messages;

            /// <summary>A move on the board.</summary>
            [WevisMessage]
            public partial record Move(int X, int Y);

            [WevisMessage]
            public partial record Heights(double[] Values, string Label);

            /// <summary>Every choice a definitions line makes, as attribute arguments.</summary>
            [WevisMessage(MessageDirection.ClientToServer, Replies = [typeof(Accepted), typeof(Refused)])]
            public partial record Offer([WevisBound(16)] string Item, [WevisBound(64)] float[] Prices, int Count);

            [WevisMessage(MessageDirection.ServerToClient)]
            public partial record Accepted([WevisBound(1024)] byte[] Receipt);

            [WevisMessage(MessageDirection.ServerToClient)]
            public partial record Refused(string Reason);
            """;
        GeneratorRun run = GeneratorHarness.Run([], [source], rootNamespace: "Game");

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.CompilationProblems);
        Assert.Equal(
            ["Accepted.g.cs", "Heights.g.cs", "Move.g.cs", "Offer.g.cs", "Refused.g.cs", "WevisRegistry.g.cs"],
            run.Sources.Keys.Order(StringComparer.Ordinal));
        foreach ((string hintName, string generated) in run.Sources)
        {
            Snapshot.Match(generated, "Code#" + hintName);
        }
    }

    [Fact]
    public void MessagesWithoutANamespaceGoInTheGlobalNamespace()
    {
        GeneratorRun run = GeneratorHarness.Run(
            [new DefinitionsFile("/p/m.wevis", "Hello name=str")],
            ["static class Use { static string M() => new Hello(\"x\").Name; static object R() => WevisRegistry.Messages; }"],
            rootNamespace: null);

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.CompilationProblems);
    }

    [Fact]
    public void NoMessagesMeansNoRegistry()
    {
        GeneratorRun run = GeneratorHarness.Run([new DefinitionsFile("/p/empty.wevis", "# nothing yet\n")]);
        Assert.Empty(run.Sources);
        Assert.Empty(run.GeneratorDiagnostics);
    }

    [Fact]
    public void ProtocolAssemblyMessagesAreInternalAndNotSelfRegistering()
    {
        GeneratorRun run = GeneratorHarness.Run(
            [new DefinitionsFile("/p/protocol.wevis", "_Ping\n_Hello name=str", "Proto")],
            rootNamespace: "Wevis.Fake",
            protocolAssembly: true);

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.CompilationProblems);
        Assert.Contains("internal sealed partial record Ping()", run.Sources["protocol.Ping.g.cs"], StringComparison.Ordinal);
        Assert.Contains("internal static partial class WevisRegistry", run.Sources["WevisRegistry.g.cs"], StringComparison.Ordinal);
        Assert.DoesNotContain("ModuleInitializer", run.Sources["WevisRegistry.g.cs"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("api#v2")]
    [InlineData("api=v2")]
    [InlineData("api&v2")]
    public void AFileNameWithCharactersAHintNameCannotHoldIsSanitised(string fileName)
    {
        // Roslyn's AddSource throws on a hint name with such characters, which would stop the whole generator (CS8785).
        GeneratorRun run = GeneratorHarness.Run([new DefinitionsFile($"/p/{fileName}.wevis", "Hello")]);

        Assert.Null(run.Result.Results.Single().Exception);
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.CompilationProblems);
        Assert.Equal(["WevisRegistry.g.cs", "api_v2.Hello.g.cs"], run.Sources.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("public sealed partial record Hello", run.Sources["api_v2.Hello.g.cs"], StringComparison.Ordinal);
    }

    [Fact]
    public void MessagesWhoseHintNamesDifferOnlyInCaseGetDistinctHintNames()
    {
        // Roslyn compares hint names ignoring case, so Hello and hello in one file would collide and stop the generator.
        GeneratorRun run = GeneratorHarness.Run([new DefinitionsFile("/p/api.wevis", "Hello\nhello")]);

        Assert.Null(run.Result.Results.Single().Exception);
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.CompilationProblems);
        Assert.Equal(["WevisRegistry.g.cs", "api.Hello.g.cs", "api.hello_2.g.cs"], run.Sources.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("public sealed partial record Hello", run.Sources["api.Hello.g.cs"], StringComparison.Ordinal);
        Assert.Contains("public sealed partial record hello", run.Sources["api.hello_2.g.cs"], StringComparison.Ordinal);
    }

    [Fact]
    public void MessagesInSameNamedFilesWhoseHintNamesDifferOnlyInCaseGetDistinctHintNames()
    {
        GeneratorRun run = GeneratorHarness.Run(
            [new DefinitionsFile("/a/Api.wevis", "Hello", "A"), new DefinitionsFile("/b/api.wevis", "hello", "B")]);

        Assert.Null(run.Result.Results.Single().Exception);
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.CompilationProblems);
        Assert.Equal(["Api.Hello.g.cs", "WevisRegistry.g.cs", "api.hello_2.g.cs"], run.Sources.Keys.Order(StringComparer.Ordinal));
    }
}
