using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Wevis.Generator.Tests.Infrastructure;

namespace Wevis.Generator.Tests;

/// <summary>What users meet: generated types compile cleanly, a wrong argument does not compile, patterns work.</summary>
public class CompilationTests
{
    private static readonly string s_example = File.ReadAllText("example.wevis");

    private static GeneratorRun RunExample(string source, LanguageVersion version = LanguageVersion.Latest) => GeneratorHarness.Run(
        [new DefinitionsFile("/project/example.wevis", s_example, "Example")],
        [source],
        version: version);

    [Theory]
    [InlineData(LanguageVersion.CSharp9)]
    [InlineData(LanguageVersion.Latest)]
    public void GeneratedCodeCompilesWithoutWarnings(LanguageVersion version)
    {
        GeneratorRun run = RunExample("namespace TestApp { }", version);

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.CompilationProblems);
        Assert.Equal(8, run.Output.SyntaxTrees.Count() - run.Input.SyntaxTrees.Count());
    }

    [Fact]
    public void AWrongArgumentTypeDoesNotCompile()
    {
        const string source = """
            namespace TestApp
            {
                static class Use
                {
                    static object Make() => new Example.ItIs(Hours: "x", Minutes: 1);
                }
            }
            """;
        GeneratorRun run = RunExample(source);

        Diagnostic error = Assert.Single(run.CompilationProblems);
        Assert.Equal("CS1503", error.Id);
        Assert.Equal(DiagnosticSeverity.Error, error.Severity);
        Assert.Equal(4, error.Location.GetLineSpan().StartLinePosition.Line);
        Assert.Equal("/src/Source0.cs", error.Location.GetLineSpan().Path);
    }

    [Fact]
    public void RecordPatternsAndPropertyPatternsCompile()
    {
        const string source = """
            using Example;
            using Wevis;

            namespace TestApp
            {
                static class Use
                {
                    static string Describe(IMessage message) => message switch
                    {
                        ItIs { Hours: > 12 } => "afternoon",
                        ItIs(var h, var m) => $"{h}:{m}",
                        YouAre(var name) => name,
                        SomeFloats { Singles.Length: 0 } => "no singles",
                        SomeFloats(var singles, var doubles) => $"{singles.Length} and {doubles.Length}",
                        ServerReady or WhatTimeIsIt or WhoAmI => "no arguments",
                        PleaseMayIHaveSomeFloats request => request.ToString(),
                        _ => "something else",
                    };

                    static int Deconstruct()
                    {
                        var (hours, minutes) = new ItIs(1, 2);
                        return hours + minutes;
                    }
                }
            }
            """;
        GeneratorRun run = RunExample(source);

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.CompilationProblems);
    }

    [Fact]
    public void NullForAStringArgumentIsANullableWarning()
    {
        GeneratorRun run = RunExample("namespace TestApp { static class Use { static object M() => new Example.YouAre(null); } }");

        Assert.Contains(run.CompilationProblems, d => d.Id == "CS8625");
    }

    [Fact]
    public void CodeDefinedMessageCanBeUsedLikeAFileDefinedOne()
    {
        const string source = """
            using Wevis;

            namespace Game
            {
                [WevisMessage]
                public partial record Move(int X, int Y);

                static class Use
                {
                    static MessageDescriptor Descriptor() => ((IMessage)new Move(1, 2)).Descriptor;
                    static MessageRegistry Registry() => WevisRegistry.Messages;
                    static bool Sealed() => typeof(Move).IsSealed;
                }
            }
            """;
        GeneratorRun run = GeneratorHarness.Run([], [source], rootNamespace: "Game");

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.CompilationProblems);
    }

    [Fact]
    public void ARecordWhosePrimaryConstructorIsInAnotherFileGetsItsArguments()
    {
        // The attribute in one syntax tree, the parameter list in another: the parameters must be bound with the
        // semantic model of their own tree ("Syntax node is not within syntax tree" otherwise stops the generator).
        const string attributed = """
            using Wevis;

            namespace Game
            {
                [WevisMessage]
                public partial record Move;
            }
            """;
        const string positional = """
            namespace Game
            {
                public partial record Move(int X, int Y);

                static class Use
                {
                    static Wevis.MessageDescriptor Descriptor() => ((Wevis.IMessage)new Move(1, 2)).Descriptor;
                }
            }
            """;
        GeneratorRun run = GeneratorHarness.Run([], [attributed, positional], rootNamespace: "Game");

        Assert.Null(run.Result.Results.Single().Exception);
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.CompilationProblems);
        string move = run.Sources["Move.g.cs"];
        Assert.Contains("sealed class MoveFormatter", move, StringComparison.Ordinal);
        Assert.Contains("writer.WriteArrayHeader(3);", move, StringComparison.Ordinal);
    }

    private static GeneratorRun RunLobby(string source) => GeneratorHarness.Run(
        [new DefinitionsFile("/project/lobby.wevis", File.ReadAllText("lobby.wevis"), "Lobby")],
        [source]);

    /// <summary>The compiler errors, as (id, one-based line), in order.</summary>
    private static List<(string Id, int Line)> Errors(GeneratorRun run) =>
        [.. run.CompilationProblems.Select(d => (d.Id, d.Location.GetLineSpan().StartLinePosition.Line + 1)).Order()];

    [Fact]
    public void SendingTheWrongWayIsACompileErrorAtTheCall()
    {
        const string source = """
            using Lobby;
            using Wevis;

            static class Use
            {
                static void FromAClient(Client client) => client.Send(new Joined("lobby", 1));
                static void FromARoom(Connection connection) => connection.Send(new Talk("hello"));
                static void ToEveryone(Room room) => room.Broadcast(new Leave());

                static void TheRightWay(Client client, Connection connection, Room room)
                {
                    client.Send(new Talk("hello"));
                    client.Send(new Heartbeat(1));
                    connection.Send(new Talked("ann", "hello"));
                    connection.Send(new Heartbeat(1));
                    room.Broadcast(new Talked("ann", "hello"), except: connection);
                }
            }
            """;

        GeneratorRun run = RunLobby(source);

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Equal([("CS1503", 6), ("CS1503", 7), ("CS1503", 8)], Errors(run));
        Assert.Contains(run.CompilationProblems, d => d.GetMessage().Contains("cannot convert from 'Lobby.Joined' to 'Wevis.IClientMessage'", StringComparison.Ordinal));
        Assert.Contains(run.CompilationProblems, d => d.GetMessage().Contains("cannot convert from 'Lobby.Talk' to 'Wevis.IServerMessage'", StringComparison.Ordinal));
    }

    [Fact]
    public void MessagesWithoutADirectionGoBothWays()
    {
        const string source = """
            using Example;
            using Wevis;

            static class Use
            {
                static void Both(Client client, Connection connection, Room room)
                {
                    client.Send(new ItIs(1, 2));
                    connection.Send(new WhatTimeIsIt());
                    room.Broadcast(new YouAre("ann"));
                }
            }
            """;

        GeneratorRun run = RunExample(source);

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.CompilationProblems);
    }

    [Fact]
    public void AnUntypedSendCompilesForAnyMessage()
    {
        GeneratorRun run = RunLobby("static class Use { static void M(Wevis.Client client, Wevis.IMessage any) => client.SendUntyped(any); }");

        Assert.Empty(run.CompilationProblems);
    }

    [Fact]
    public void AReplyOfTheWrongTypeIsACompileErrorAtTheCall()
    {
        const string source = """
            using System.Threading.Tasks;
            using Lobby;
            using Wevis;

            static class Use
            {
                static void Answer(Request<Join> join, Request<Leave> leave)
                {
                    join.Reply(new Joined("lobby", 1));
                    join.Reply(new RoomFull("lobby"));
                    join.Reply(new Left("lobby"));
                    leave.Reply(new Left("lobby"));
                    leave.Reply(new Joined("lobby", 1));
                }

                static async Task Ask(Client client)
                {
                    IJoinReply reply = await client.RequestAsync(new Join("lobby"));
                    Left left = await client.RequestAsync(new Leave());
                    Joined wrong = await client.RequestAsync(new Leave());
                    await client.RequestAsync(new Talk("not a request"));
                }

                static void NotARequest(IMessage message)
                {
                    if (message is Request<Talked> said)
                    {
                    }
                }
            }
            """;

        GeneratorRun run = RunLobby(source);

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Equal([("CS0029", 20), ("CS0311", 11), ("CS0311", 13), ("CS0311", 26), ("CS0411", 21)], Errors(run));
        Assert.Contains(
            run.CompilationProblems,
            d => d.Id == "CS0311" && d.GetMessage().Contains("There is no implicit reference conversion from 'Lobby.Join' to 'Wevis.IRequest<Lobby.Left>'", StringComparison.Ordinal));
    }
}
