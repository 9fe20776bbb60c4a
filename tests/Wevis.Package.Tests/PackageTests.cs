namespace Wevis.Package.Tests;

/// <summary>
/// The Wevis.Runtime package as a new user meets it: a fresh console project, the package added, a definitions
/// file dropped in, a build. Also what they see when they get something wrong.
/// </summary>
public sealed class PackageTests(PackedRuntime package) : IClassFixture<PackedRuntime>
{
    [Fact]
    public void ThePackageCarriesTheRuntimeTheGeneratorAndTheBuildLogic()
    {
        Assert.Contains("lib/net10.0/Wevis.Runtime.dll", package.PackageFiles);
        Assert.Contains("lib/net10.0/Wevis.Runtime.xml", package.PackageFiles);
        Assert.Contains("analyzers/dotnet/cs/Wevis.Generator.dll", package.PackageFiles);
        foreach (string folder in new[] { "build", "buildTransitive" })
        {
            Assert.Contains($"{folder}/Wevis.Runtime.props", package.PackageFiles);
            Assert.Contains($"{folder}/Wevis.Runtime.targets", package.PackageFiles);
            Assert.Contains($"{folder}/Wevis.props", package.PackageFiles);
            Assert.Contains($"{folder}/Wevis.targets", package.PackageFiles);
        }

        Assert.Contains("README.md", package.PackageFiles);
        Assert.True(File.Exists(Path.ChangeExtension(package.PackagePath, ".snupkg")), "No symbols package.");

        Assert.Contains("""<license type="expression">MIT</license>""", package.Nuspec, StringComparison.Ordinal);
        Assert.Contains("<readme>README.md</readme>", package.Nuspec, StringComparison.Ordinal);
        Assert.Contains("""<repository type="git" url="https://github.com/wevis/wevis-dotnet" """, package.Nuspec, StringComparison.Ordinal);
        Assert.Contains("<description>Typed client/server messaging over TCP.", package.Nuspec, StringComparison.Ordinal);
        Assert.Contains("""<dependency id="MessagePack" version="2.5.307" """, package.Nuspec, StringComparison.Ordinal);
        Assert.Contains("""<dependency id="Microsoft.Extensions.Logging.Abstractions" """, package.Nuspec, StringComparison.Ordinal);
        Assert.DoesNotContain("Wevis.Generator", package.Nuspec, StringComparison.Ordinal); // Bundled, not a dependency.
    }

    [Fact]
    public async Task ANewProjectBuildsAndRunsWithTheGeneratedTypes()
    {
        string project = await package.NewProjectAsync("Calculator");
        Directory.CreateDirectory(Path.Combine(project, "Messages"));
        await File.WriteAllTextAsync(Path.Combine(project, "Messages", "calc.wevis"), """
            # A calculator's messages
            Add a=int b=int
            Sum total=int
            """);
        // The file is picked up without listing it; this only gives its messages a namespace of their own.
        await AddToProjectAsync(project, """
            <ItemGroup>
              <Wevis Update="Messages/calc.wevis" Namespace="Calculator.Messages" />
            </ItemGroup>
            """);
        await File.WriteAllTextAsync(Path.Combine(project, "Program.cs"), """
            using Calculator.Messages;
            using Wevis;

            // A server that adds, and a client that asks it to, in one program.
            await using var server = new Server(
                (username, password, salt, version) => Credentials.Verify(password, "secret", salt) ? new User(username) : "Wrong password.",
                new CalculatorRoom(),
                new ServerOptions { Host = "127.0.0.1", Port = 0 });
            await server.StartAsync();

            await using var client = new Client("ada", "secret", "1.0", "127.0.0.1", server.Port);
            await client.ConnectAsync();
            client.Send(new Add(2, 3));
            client.Send(new Add(40, 2));
            for (int i = 0; i < 2; i++)
            {
                string text = await client.ReceiveAsync() switch
                {
                    Sum { Total: > 10 } sum => $"A big sum: {sum.Total}",
                    Sum(int total) => $"Sum: {total}",
                    var other => $"Unexpected: {other}",
                };
                Console.WriteLine(text);
            }

            Console.WriteLine($"{Calculator.WevisRegistry.Messages.Messages.Count} message types");

            sealed class CalculatorRoom : Room
            {
                protected override void Handle(Connection connection, IMessage message)
                {
                    switch (message)
                    {
                        case Add(int a, int b):
                            connection.Send(new Sum(a + b));
                            break;
                    }
                }
            }
            """);

        await PackedRuntime.RunAsync(project, "build");
        CommandResult run = await PackedRuntime.RunAsync(project, "run", "--no-build");

        Assert.Equal(["Sum: 5", "A big sum: 42", "2 message types"], run.Output);
    }

    [Fact]
    public async Task AWrongArgumentTypeFailsTheBuildOnItsLine()
    {
        string project = await package.NewProjectAsync("WrongArgument");
        await File.WriteAllTextAsync(Path.Combine(project, "time.wevis"), "ItIs hours=int minutes=int\n");
        const string Program = """
            using Wevis;
            using WrongArgument;

            IMessage message = new ItIs(12, 30);
            Console.WriteLine(message);
            message = new ItIs("half past", 12);
            Console.WriteLine(message);
            """;
        await File.WriteAllTextAsync(Path.Combine(project, "Program.cs"), Program);

        CommandResult build = await PackedRuntime.TryRunAsync(project, "build");

        Assert.NotEqual(0, build.ExitCode);
        (int line, int column) = Position(Program, "\"half past\"");
        Assert.Contains($"Program.cs({line},{column}): error CS1503: Argument 1: cannot convert from 'string' to 'int'", build.Transcript, StringComparison.Ordinal);
        Assert.DoesNotContain("WEVIS", build.Transcript, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnknownTypeInADefinitionsFileFailsTheBuildAtItsLineAndColumn()
    {
        string project = await package.NewProjectAsync("UnknownType");
        const string Definitions = """
            # Positions
            Move x=int y=integer
            """;
        Directory.CreateDirectory(Path.Combine(project, "definitions"));
        await File.WriteAllTextAsync(Path.Combine(project, "definitions", "game.wevis"), Definitions);
        // With default items off, only listed files are definitions: this broken one is not.
        Directory.CreateDirectory(Path.Combine(project, "old"));
        await File.WriteAllTextAsync(Path.Combine(project, "old", "unused.wevis"), "Broken x=nothing\n");
        await AddToProjectAsync(project, """
            <PropertyGroup>
              <EnableDefaultWevisItems>false</EnableDefaultWevisItems>
            </PropertyGroup>
            <ItemGroup>
              <Wevis Include="definitions/game.wevis" />
            </ItemGroup>
            """);

        CommandResult build = await PackedRuntime.TryRunAsync(project, "build");

        Assert.NotEqual(0, build.ExitCode);
        (int line, int column) = Position(Definitions, "integer");
        Assert.Contains($"game.wevis({line},{column}): error WEVIS001: Unknown type 'integer' for argument 'y'", build.Transcript, StringComparison.Ordinal);
        Assert.DoesNotContain("unused.wevis", build.Transcript, StringComparison.Ordinal);
        Assert.DoesNotContain("error CS", build.Transcript, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendingTheWrongWayOrReplyingWithTheWrongTypeFailsTheBuildAtTheCall()
    {
        string project = await package.NewProjectAsync("Contract");
        await File.WriteAllTextAsync(Path.Combine(project, "game.wevis"), """
            client: Join room=str(32) -> Joined | RoomFull
            server: Joined room=str(32)
            server: RoomFull room=str(32)
            client: Say text=str(200)
            server: Said text=str(200)
            Heartbeat sent=long
            """);
        const string Program = """
            using Contract;
            using Wevis;

            Console.WriteLine("built");

            static class Use
            {
                static void FromAClient(Client client) => client.Send(new Joined("lobby"));
                static void FromARoom(Connection connection) => connection.Send(new Say("hello"));
                static void ToEveryone(Room room) => room.Broadcast(new Say("hello"));
                static void Answer(Request<Join> join) => join.Reply(new Said("hello"));

                static async Task TheRightWay(Client client, Connection connection, Request<Join> join)
                {
                    client.Send(new Say("hello"));
                    client.Send(new Heartbeat(1));
                    connection.Send(new Heartbeat(2));
                    join.Reply(new RoomFull(join.Message.Room));
                    IJoinReply reply = await client.RequestAsync(new Join("lobby"));
                    Console.WriteLine(reply);
                }
            }
            """;
        await File.WriteAllTextAsync(Path.Combine(project, "Program.cs"), Program);

        CommandResult build = await PackedRuntime.TryRunAsync(project, "build");

        Assert.NotEqual(0, build.ExitCode);
        string[] errors = [.. build.Transcript.Split('\n').Where(l => l.Contains(": error ", StringComparison.Ordinal)).Distinct()];
        Assert.True(errors.Length == 4, "Expected four errors:\n" + string.Join('\n', errors));
        AssertError(errors, Program, "client.Send(new Joined", "CS1503", "cannot convert from 'Contract.Joined' to 'Wevis.IClientMessage'");
        AssertError(errors, Program, "connection.Send(new Say", "CS1503", "cannot convert from 'Contract.Say' to 'Wevis.IServerMessage'");
        AssertError(errors, Program, "room.Broadcast(new Say", "CS1503", "cannot convert from 'Contract.Say' to 'Wevis.IServerMessage'");
        AssertError(errors, Program, "join.Reply(new Said", "CS0311", "no implicit reference conversion from 'Contract.Join' to 'Wevis.IRequest<Contract.Said>'");
    }

    /// <summary>Asserts an error with <paramref name="id"/> and <paramref name="text"/> on the line of Program.cs that holds <paramref name="call"/>.</summary>
    private static void AssertError(string[] errors, string program, string call, string id, string text)
    {
        (int line, _) = Position(program, call);
        Assert.True(
            errors.Any(e => e.Contains($"Program.cs({line},", StringComparison.Ordinal) && e.Contains($"error {id}:", StringComparison.Ordinal) && e.Contains(text, StringComparison.Ordinal)),
            $"No {id} on line {line} ({call}):\n" + string.Join('\n', errors));
    }

    [Fact]
    public async Task ALockFileGuardsThePublishedDefinitions()
    {
        string project = await package.NewProjectAsync("Evolution");
        string definitions = Path.Combine(project, "game.wevis");
        const string Published = "@version 1\nclient: Ask question=str(32) -> Answer\nserver: Answer value=long\n";
        await File.WriteAllTextAsync(definitions, Published);
        await File.WriteAllTextAsync(Path.Combine(project, "Program.cs"), "System.Console.WriteLine(new Evolution.Answer(1));\n");

        // Publishing writes the lock file beside the definitions.
        await PackedRuntime.RunAsync(project, "build", "-p:WevisUpdateLock=true");
        Assert.Equal(Published, await File.ReadAllTextAsync(definitions + ".lock"));

        // A breaking edit fails the build at its line and column...
        string edited = Published.Replace("value=long", "value=int", StringComparison.Ordinal);
        await File.WriteAllTextAsync(definitions, edited);
        CommandResult broken = await PackedRuntime.TryRunAsync(project, "build");
        Assert.NotEqual(0, broken.ExitCode);
        Assert.Contains(
            "game.wevis(3,22): error WEVIS032: Argument 'value' of 'Answer' was long in game.wevis.lock line 3 and is now int",
            broken.Transcript,
            StringComparison.Ordinal);

        // ...until the version is raised; adding a message never needs that.
        await File.WriteAllTextAsync(definitions, edited.Replace("@version 1", "@version 2", StringComparison.Ordinal));
        await PackedRuntime.RunAsync(project, "build");
        await File.WriteAllTextAsync(definitions, Published + "server: News headline=str(80)\n");
        await PackedRuntime.RunAsync(project, "build");
    }

    [Fact]
    public async Task AProgramAndItsLibraryOfOneRootNamespaceNeedTheirOwnRegistryNames()
    {
        // A library and a program, both with RootNamespace Game: both registries would be Game.WevisRegistry.
        string library = await package.NewProjectAsync("GameShared");
        await File.WriteAllTextAsync(Path.Combine(library, "shared.wevis"), "Greeting name=str\n");
        await File.WriteAllTextAsync(Path.Combine(library, "Program.cs"), "namespace Game { public static class Shared { } }\n");
        await AddToProjectAsync(library, """
            <PropertyGroup>
              <OutputType>Library</OutputType>
              <RootNamespace>Game</RootNamespace>
            </PropertyGroup>
            """);
        string program = await package.NewProjectAsync("GameServer");
        await File.WriteAllTextAsync(Path.Combine(program, "server.wevis"), "Move x=int y=int\n");
        await File.WriteAllTextAsync(Path.Combine(program, "Program.cs"), """
            using Wevis;

            Console.WriteLine(new Game.Greeting("hi") with { Name = "hello" });
            Console.WriteLine(new Game.Move(1, 2));
            Console.WriteLine(string.Join(",", new[] { "Greeting", "Move" }.Where(name => MessageRegistry.Default.TryGetByName(name, out _))));
            """);
        await AddToProjectAsync(program, """
            <PropertyGroup>
              <RootNamespace>Game</RootNamespace>
            </PropertyGroup>
            <ItemGroup>
              <ProjectReference Include="../GameShared/GameShared.csproj" />
            </ItemGroup>
            """);

        CommandResult clash = await PackedRuntime.TryRunAsync(program, "build");
        Assert.NotEqual(0, clash.ExitCode);
        Assert.Contains(
            "error WEVIS039: The message registry would be 'Game.WevisRegistry', which referenced assembly 'GameShared' already defines",
            clash.Transcript,
            StringComparison.Ordinal);

        await AddToProjectAsync(program, """
            <PropertyGroup>
              <!-- The library's registry is Game.WevisRegistry; this program's is Game.Server.WevisRegistry. -->
              <WevisRegistryNamespace>Game.Server</WevisRegistryNamespace>
            </PropertyGroup>
            """);
        CommandResult build = await PackedRuntime.RunAsync(program, "build");
        Assert.DoesNotContain("warning CS0436", build.Transcript, StringComparison.Ordinal);
        CommandResult run = await PackedRuntime.RunAsync(program, "run", "--no-build");
        Assert.Equal(["Greeting { Name = \"hello\" }", "Move { X = 1, Y = 2 }", "Greeting,Move"], run.Output);
    }

    /// <summary>Adds <paramref name="xml"/> to the end of the project file.</summary>
    private static async Task AddToProjectAsync(string project, string xml)
    {
        string path = Path.Combine(project, Path.GetFileName(project) + ".csproj");
        string text = await File.ReadAllTextAsync(path);
        await File.WriteAllTextAsync(path, text.Replace("</Project>", xml + "\n</Project>", StringComparison.Ordinal));
    }

    /// <summary>The 1-based line and column of the first <paramref name="text"/> in <paramref name="source"/>.</summary>
    private static (int Line, int Column) Position(string source, string text)
    {
        string[] lines = source.Split('\n');
        int line = Array.FindIndex(lines, l => l.Contains(text, StringComparison.Ordinal));
        return (line + 1, lines[line].IndexOf(text, StringComparison.Ordinal) + 1);
    }
}
