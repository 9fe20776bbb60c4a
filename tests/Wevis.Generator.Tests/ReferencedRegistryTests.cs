using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Emit;
using Wevis.Generator.Tests.Infrastructure;

namespace Wevis.Generator.Tests;

/// <summary>
/// A program whose messages live in a referenced library gets them in <c>MessageRegistry.Default</c> from its own
/// module initializer: the generator finds the library's registry through its assembly attribute.
/// </summary>
public class ReferencedRegistryTests
{
    private static MetadataReference BuildLibrary(string rootNamespace, string definitions)
    {
        GeneratorRun library = GeneratorHarness.Run([new DefinitionsFile($"/{rootNamespace}/messages.wevis", definitions)], rootNamespace: rootNamespace);
        Assert.Empty(library.CompilationProblems);
        Assert.Contains($"[assembly: global::Wevis.WevisRegistryAttribute(typeof(global::{rootNamespace}.WevisRegistry))]", library.Sources["WevisRegistry.g.cs"], StringComparison.Ordinal);
        using var image = new MemoryStream();
        EmitResult emitted = library.Output.WithAssemblyName(rootNamespace).Emit(image);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));
        return MetadataReference.CreateFromImage(image.ToArray());
    }

    [Fact]
    public void AProgramRegistersTheRegistriesOfTheLibrariesItReferences()
    {
        MetadataReference shared = BuildLibrary("Shared", "Hello name=str");
        MetadataReference more = BuildLibrary("More", "Bye");

        GeneratorRun program = GeneratorHarness.Run(
            [],
            ["namespace App { static class Use { static object M() => new Shared.Hello(\"x\"); } }"],
            rootNamespace: "App",
            extraReferences: [more, shared]);

        Assert.Empty(program.GeneratorDiagnostics);
        Assert.Empty(program.CompilationProblems);
        Assert.Equal(["WevisReferencedRegistries.g.cs"], program.Sources.Keys);
        string source = program.Sources["WevisReferencedRegistries.g.cs"];
        Assert.Contains("[global::System.Runtime.CompilerServices.ModuleInitializer]", source, StringComparison.Ordinal);
        int more1 = source.IndexOf("global::Wevis.MessageRegistry.Register(global::More.WevisRegistry.Messages);", StringComparison.Ordinal);
        int shared1 = source.IndexOf("global::Wevis.MessageRegistry.Register(global::Shared.WevisRegistry.Messages);", StringComparison.Ordinal);
        Assert.True(more1 > 0 && shared1 > more1, source);
    }

    [Fact]
    public void AProgramWithItsOwnMessagesRegistersBoth()
    {
        MetadataReference shared = BuildLibrary("Shared", "Hello name=str");

        GeneratorRun program = GeneratorHarness.Run(
            [new DefinitionsFile("/app/app.wevis", "Local x=int")], rootNamespace: "App", extraReferences: [shared]);

        Assert.Empty(program.CompilationProblems);
        Assert.Equal(["WevisReferencedRegistries.g.cs", "WevisRegistry.g.cs", "app.Local.g.cs"], program.Sources.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void AProgramWhoseRootNamespaceIsNotValidRegistersThemFromTheGlobalNamespace()
    {
        // A program named my-game has RootNamespace "my-game"; with no messages of its own, that is no error.
        MetadataReference shared = BuildLibrary("Shared", "Hello name=str");

        GeneratorRun program = GeneratorHarness.Run([], ["class C { }"], rootNamespace: "my-game", extraReferences: [shared]);

        Assert.Empty(program.CompilationProblems);
        Assert.Empty(program.GeneratorDiagnostics);
        string source = Assert.Single(program.Sources).Value;
        Assert.DoesNotContain("namespace", source, StringComparison.Ordinal);
        Assert.Contains("global::Wevis.MessageRegistry.Register(global::Shared.WevisRegistry.Messages);", source, StringComparison.Ordinal);
    }

    [Fact]
    public void WithoutSuchReferencesNothingIsAdded()
    {
        GeneratorRun program = GeneratorHarness.Run([], ["namespace App { class C { } }"], rootNamespace: "App");
        Assert.Empty(program.Sources);
    }

    /// <summary>A library whose assembly name differs from its root namespace, as a Game.Shared project with RootNamespace Game.</summary>
    internal static (MetadataReference Reference, byte[] Image) BuildLibrary(string rootNamespace, string assemblyName, string definitions)
    {
        GeneratorRun library = GeneratorHarness.Run([new DefinitionsFile("/shared/shared.wevis", definitions)], rootNamespace: rootNamespace);
        Assert.Empty(library.CompilationProblems);
        using var image = new MemoryStream();
        EmitResult emitted = library.Output.WithAssemblyName(assemblyName).Emit(image);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));
        return (MetadataReference.CreateFromImage(image.ToArray()), image.ToArray());
    }

    [Fact]
    public void AProgramWithTheRootNamespaceOfALibraryItReferencesIsToldToNameItsRegistry()
    {
        // Both would generate Game.WevisRegistry: the program's would hide the library's (CS0436 warnings), and the
        // program's module initializer, meant to register the library's registry, would register its own twice.
        (MetadataReference shared, _) = BuildLibrary("Game", "Game.Shared", "SharedGreeting name=str");

        GeneratorRun program = GeneratorHarness.Run(
            [new DefinitionsFile("/app/app.wevis", "AppLocalThing x=int")], rootNamespace: "Game", extraReferences: [shared]);

        Diagnostic error = Assert.Single(program.GeneratorDiagnostics);
        Assert.Equal("WEVIS039", error.Id);
        Assert.Equal(Location.None, error.Location);
        Assert.Equal(
            "The message registry would be 'Game.WevisRegistry', which referenced assembly 'Game.Shared' already defines (it has the same root namespace); "
            + "set <WevisRegistryNamespace> in this project file to a namespace of its own (for example TestAssembly); the messages keep their namespaces",
            error.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Empty(program.CompilationProblems);
        Assert.Equal(["WevisReferencedRegistries.g.cs"], program.Sources.Keys);
    }

    [Fact]
    public void WithItsOwnRegistryNamespaceAProgramAndALibraryOfOneNamespaceWorkTogether()
    {
        (MetadataReference shared, byte[] sharedImage) = BuildLibrary("Game", "Game.Shared", "SharedGreeting name=str");

        GeneratorRun program = GeneratorHarness.Run(
            [new DefinitionsFile("/app/app.wevis", "AppLocalThing x=int")],
            ["""
             namespace Game
             {
                 public static class Probe
                 {
                     public static object Messages() => (new SharedGreeting("x"), new AppLocalThing(1), Game.WevisRegistry.Messages, Game.App.WevisRegistry.Messages);

                     public static string Found() => string.Join(",",
                         global::System.Linq.Enumerable.Where(new[] { "SharedGreeting", "AppLocalThing" }, n => global::Wevis.MessageRegistry.Default.TryGetByName(n, out _)));
                 }
             }
             """],
            rootNamespace: "Game",
            extraReferences: [shared],
            registryNamespace: "Game.App");

        Assert.Empty(program.GeneratorDiagnostics);
        Assert.Empty(program.CompilationProblems);
        Assert.Contains("namespace Game.App", program.Sources["WevisRegistry.g.cs"], StringComparison.Ordinal);
        Assert.Contains("namespace Game\n", program.Sources["app.AppLocalThing.g.cs"], StringComparison.Ordinal);
        Assert.Contains("global::Wevis.MessageRegistry.Register(global::Game.WevisRegistry.Messages);", program.Sources["WevisReferencedRegistries.g.cs"], StringComparison.Ordinal);

        // Loaded and run: the program's module initializers register both registries in MessageRegistry.Default.
        using var image = new MemoryStream();
        EmitResult emitted = program.Output.WithAssemblyName("Game.App").Emit(image);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));
        var context = new ImagesLoadContext(new() { ["Game.Shared"] = sharedImage });
        System.Reflection.Assembly app = context.LoadFromStream(new MemoryStream(image.ToArray()));
        object? found = app.GetType("Game.Probe")!.GetMethod("Found")!.Invoke(null, null);
        Assert.Equal("SharedGreeting,AppLocalThing", found);
    }

    [Fact]
    public void AMessageAlsoDefinedInAReferencedLibraryIsAnErrorAtItsName()
    {
        (MetadataReference shared, _) = BuildLibrary("Shared", "Shared", "Hello name=str");

        GeneratorRun program = GeneratorHarness.Run(
            [new DefinitionsFile("/app/app.wevis", "Local x=int\nHello name=str")],
            ["namespace App { static class Use { static object M() => (new Local(1), new Shared.Hello(\"x\")); } }"],
            rootNamespace: "App",
            extraReferences: [shared]);

        Diagnostic error = Assert.Single(program.GeneratorDiagnostics);
        Assert.Equal("WEVIS040", error.Id);
        FileLinePositionSpan span = error.Location.GetLineSpan();
        Assert.Equal(("/app/app.wevis", 1, 0, 1, 5), (span.Path, span.StartLinePosition.Line, span.StartLinePosition.Character, span.EndLinePosition.Line, span.EndLinePosition.Character));
        Assert.Contains("referenced assembly 'Shared' as Shared.Hello", error.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.Empty(program.CompilationProblems);
        Assert.DoesNotContain("app.Hello.g.cs", program.Sources.Keys);
        Assert.Contains("app.Local.g.cs", program.Sources.Keys);
    }

    [Fact]
    public void InOneNamespaceAMessageDefinedTwiceLeavesTheLibrarysInPlace()
    {
        // Game.Hello in both: the program's is left out, so its code means the library's, without CS0436.
        (MetadataReference shared, _) = BuildLibrary("Game", "Game.Shared", "Hello name=str");

        GeneratorRun program = GeneratorHarness.Run(
            [new DefinitionsFile("/app/app.wevis", "Hello name=str\nLocal x=int")],
            ["namespace Game { static class Use { static object M() => (new Local(1), new Hello(\"x\")); } }"],
            rootNamespace: "Game",
            extraReferences: [shared],
            registryNamespace: "Game.App");

        Assert.Equal("WEVIS040", Assert.Single(program.GeneratorDiagnostics).Id);
        Assert.Empty(program.CompilationProblems);
    }

    /// <summary>
    /// A library Shared whose messages are C# records, emitted whole or as the reference assembly a project reference
    /// compiles against (metadata only, without private members: what the SDK's ProduceReferenceAssembly gives).
    /// </summary>
    private static MetadataReference BuildCodeLibrary(string source, bool referenceAssembly, string name = "Shared")
    {
        GeneratorRun library = GeneratorHarness.Run([], [source], rootNamespace: name);
        Assert.Empty(library.GeneratorDiagnostics);
        Assert.Empty(library.CompilationProblems);
        using var image = new MemoryStream();
        EmitResult emitted = library.Output.WithAssemblyName(name).Emit(
            image, options: referenceAssembly ? new EmitOptions(metadataOnly: true, includePrivateMembers: false) : null);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));
        return MetadataReference.CreateFromImage(image.ToArray());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AMessageDefinedInALibraryAsAnInternalRecordIsAnErrorAtTheProgramsName(bool referenceAssembly)
    {
        // The program cannot see Shared.Secret, but MessageRegistry.Default holds it: at run time the two would clash at
        // start-up ("defined twice"), so the build says so, without advising to use a type the program cannot name.
        MetadataReference shared = BuildCodeLibrary(
            "namespace Shared { [Wevis.WevisMessage] internal partial record Secret(int X); [Wevis.WevisMessage] public partial record Open(int X); }",
            referenceAssembly);

        GeneratorRun program = GeneratorHarness.Run(
            [new DefinitionsFile("/app/app.wevis", "Local x=int\nSecret x=int")], rootNamespace: "App", extraReferences: [shared]);

        Diagnostic error = Assert.Single(program.GeneratorDiagnostics);
        Assert.Equal("WEVIS040", error.Id);
        FileLinePositionSpan span = error.Location.GetLineSpan();
        Assert.Equal(("/app/app.wevis", 1, 0, 1, 6), (span.Path, span.StartLinePosition.Line, span.StartLinePosition.Character, span.EndLinePosition.Line, span.EndLinePosition.Character));
        Assert.Equal(
            "Message 'Secret' is already defined in referenced assembly 'Shared' as Shared.Secret, internal to it; "
            + "message names must be unique in a program: rename this one",
            error.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Empty(program.CompilationProblems);
        Assert.DoesNotContain("app.Secret.g.cs", program.Sources.Keys);
        Assert.Contains("app.Local.g.cs", program.Sources.Keys);
    }

    [Fact]
    public void AMessageDefinedInALibraryAsAPublicRecordIsAnErrorThatAdvisesUsingIt()
    {
        MetadataReference shared = BuildCodeLibrary("namespace Shared { [Wevis.WevisMessage] public partial record Open(int X); }", referenceAssembly: true);

        GeneratorRun program = GeneratorHarness.Run(
            [new DefinitionsFile("/app/app.wevis", "Open x=int")], rootNamespace: "App", extraReferences: [shared]);

        Diagnostic error = Assert.Single(program.GeneratorDiagnostics);
        Assert.Equal("WEVIS040", error.Id);
        Assert.Equal(
            "Message 'Open' is already defined in referenced assembly 'Shared' as Shared.Open; "
            + "message names must be unique in a program: rename this one, or use the library's",
            error.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void AMessageWithTheWireIdOfALibrarysMessageIsAnErrorAtItsName()
    {
        // Two names, one wire id: MessageRegistry.Default would refuse the pair at start-up ("the same wire id").
        (string first, string second) = DiagnosticsTests.FindCollidingNames();
        MetadataReference shared = BuildCodeLibrary(
            "namespace Shared { [Wevis.WevisMessage] internal partial record " + first + "(int X); }", referenceAssembly: true);

        GeneratorRun program = GeneratorHarness.Run(
            [new DefinitionsFile("/app/app.wevis", "Local x=int\n" + second)], rootNamespace: "App", extraReferences: [shared]);

        Diagnostic error = Assert.Single(program.GeneratorDiagnostics);
        Assert.Equal("WEVIS011", error.Id);
        FileLinePositionSpan span = error.Location.GetLineSpan();
        Assert.Equal(("/app/app.wevis", 1, 0, 1, second.Length), (span.Path, span.StartLinePosition.Line, span.StartLinePosition.Character, span.EndLinePosition.Line, span.EndLinePosition.Character));
        Assert.Equal(
            $"Messages '{first}' and '{second}' hash to the same wire id {WireNames.WireId(second)}; "
            + $"'{first}' is defined in referenced assembly 'Shared' (as Shared.{first}): rename '{second}'",
            error.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Empty(program.CompilationProblems);
        Assert.DoesNotContain($"app.{second}.g.cs", program.Sources.Keys);
        Assert.Contains("app.Local.g.cs", program.Sources.Keys);
    }

    /// <summary>Runs a program (App, with a message of its own unless told otherwise) that references the given libraries.</summary>
    private static GeneratorRun RunProgramReferencing(IEnumerable<MetadataReference> libraries, string definitions = "Local x=int") =>
        GeneratorHarness.Run([new DefinitionsFile("/app/app.wevis", definitions)], rootNamespace: "App", extraReferences: libraries);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AMessageDefinedInTwoReferencedLibrariesIsAnErrorInTheProgram(bool reversed)
    {
        // Neither library sees the other, so neither build can tell; the program registers both, and at start-up
        // MessageRegistry.Default would throw ("defined twice"). One error, the same whatever the order of the references.
        (MetadataReference alpha, _) = BuildLibrary("Alpha", "Alpha", "Hello name=str\nOnlyAlpha");
        (MetadataReference beta, _) = BuildLibrary("Beta", "Beta", "Hello name=str\nOnlyBeta");

        GeneratorRun program = RunProgramReferencing(reversed ? [beta, alpha] : [alpha, beta]);

        Diagnostic error = Assert.Single(program.GeneratorDiagnostics);
        Assert.Equal("WEVIS041", error.Id);
        Assert.Equal(DiagnosticSeverity.Error, error.Severity);
        Assert.Equal(Location.None, error.Location);
        Assert.Equal(
            "Message 'Hello' is defined in referenced assemblies 'Alpha' (as Alpha.Hello) and 'Beta' (as Beta.Hello); "
            + "message names must be unique in a program (on the wire they are one message, and MessageRegistry.Default would refuse them at start-up): "
            + "rename it in one of the two libraries, or define it in one library that the other references",
            error.GetMessage(System.Globalization.CultureInfo.InvariantCulture));

        // The program's own messages are generated as before: the clash is between the libraries.
        Assert.Empty(program.CompilationProblems);
        Assert.Contains("app.Local.g.cs", program.Sources.Keys);
    }

    [Fact]
    public void AProgramWithoutMessagesOfItsOwnIsToldToo()
    {
        // It registers the libraries all the same (WevisReferencedRegistries), so it would fail at start-up all the same.
        (MetadataReference alpha, _) = BuildLibrary("Alpha", "Alpha", "Hello name=str");
        (MetadataReference beta, _) = BuildLibrary("Beta", "Beta", "Hello name=str");

        GeneratorRun program = GeneratorHarness.Run([], ["namespace App { class C { } }"], rootNamespace: "App", extraReferences: [alpha, beta]);

        Assert.Equal("WEVIS041", Assert.Single(program.GeneratorDiagnostics).Id);
        Assert.Equal(["WevisReferencedRegistries.g.cs"], program.Sources.Keys);
    }

    [Fact]
    public void AMessageInternalToOneOfTheLibrariesIsNamedSo()
    {
        MetadataReference alpha = BuildCodeLibrary("namespace Alpha { [Wevis.WevisMessage] internal partial record Secret(int X); }", referenceAssembly: true, name: "Alpha");
        (MetadataReference beta, _) = BuildLibrary("Beta", "Beta", "Secret x=int");

        GeneratorRun program = RunProgramReferencing([beta, alpha]);

        Diagnostic error = Assert.Single(program.GeneratorDiagnostics);
        Assert.Equal("WEVIS041", error.Id);
        Assert.StartsWith(
            "Message 'Secret' is defined in referenced assemblies 'Alpha' (as Alpha.Secret, internal to it) and 'Beta' (as Beta.Secret); ",
            error.GetMessage(System.Globalization.CultureInfo.InvariantCulture),
            StringComparison.Ordinal);
    }

    [Fact]
    public void AMessageDefinedInThreeReferencedLibrariesIsOneErrorNamingThemAllInAnyOrder()
    {
        MetadataReference[] libraries =
        [
            BuildLibrary("Alpha", "Alpha", "Hello name=str").Reference,
            BuildLibrary("Beta", "Beta", "Hello name=str\nBye").Reference,
            BuildLibrary("Gamma", "Gamma", "Hello name=str\nBye").Reference,
        ];
        const string Expected =
            "Message 'Bye' is defined in referenced assemblies 'Beta' (as Beta.Bye) and 'Gamma' (as Gamma.Bye); "
            + "message names must be unique in a program (on the wire they are one message, and MessageRegistry.Default would refuse them at start-up): "
            + "rename it in one of the two libraries, or define it in one library that the other references\n"
            + "Message 'Hello' is defined in referenced assemblies 'Alpha' (as Alpha.Hello), 'Beta' (as Beta.Hello) and 'Gamma' (as Gamma.Hello); "
            + "message names must be unique in a program (on the wire they are one message, and MessageRegistry.Default would refuse them at start-up): "
            + "rename it in all but one of the libraries, or define it in one library that the others reference";

        int[][] orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
        foreach (int[] order in orders)
        {
            GeneratorRun program = RunProgramReferencing(order.Select(i => libraries[i]));

            Assert.All(program.GeneratorDiagnostics, d => Assert.Equal(("WEVIS041", DiagnosticSeverity.Error), (d.Id, d.Severity)));
            Assert.Equal(Expected, string.Join("\n", program.GeneratorDiagnostics.Select(d => d.GetMessage(System.Globalization.CultureInfo.InvariantCulture))));
        }
    }

    [Fact]
    public void AMessageInTheProgramAndInTwoLibrariesIsReportedOnceForEach()
    {
        // The program's Hello clashes with the libraries' (WEVIS040, at its name); the libraries' with each other (WEVIS041).
        (MetadataReference alpha, _) = BuildLibrary("Alpha", "Alpha", "Hello name=str");
        (MetadataReference beta, _) = BuildLibrary("Beta", "Beta", "Hello name=str");

        GeneratorRun program = RunProgramReferencing([alpha, beta], "Local x=int\nHello name=str");

        Assert.Equal(["WEVIS040", "WEVIS041"], program.GeneratorDiagnostics.Select(d => d.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void LibrariesThatDoNotClashAreNoError()
    {
        (MetadataReference alpha, _) = BuildLibrary("Alpha", "Alpha", "Hello name=str");
        (MetadataReference beta, _) = BuildLibrary("Beta", "Beta", "Bye name=str");
        (MetadataReference gamma, _) = BuildLibrary("Gamma", "Gamma", "Welcome name=str");

        GeneratorRun program = RunProgramReferencing([alpha, beta, gamma]);

        Assert.Empty(program.GeneratorDiagnostics);
        Assert.Empty(program.CompilationProblems);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TwoLibrariesWithOneWireIdBetweenThemAreAnErrorInTheProgram(bool reversed)
    {
        // Two names, one wire id, one in each library: MessageRegistry.Default would refuse the pair at start-up ("the same wire id").
        (string first, string second) = DiagnosticsTests.FindCollidingNames();
        (MetadataReference alpha, _) = BuildLibrary("Alpha", "Alpha", reversed ? second : first);
        (MetadataReference beta, _) = BuildLibrary("Beta", "Beta", reversed ? first : second);

        GeneratorRun program = RunProgramReferencing([beta, alpha]);

        Diagnostic error = Assert.Single(program.GeneratorDiagnostics);
        Assert.Equal("WEVIS011", error.Id);
        Assert.Equal(DiagnosticSeverity.Error, error.Severity);
        Assert.Equal(Location.None, error.Location);
        (string firstIn, string secondIn) = reversed ? ("Beta", "Alpha") : ("Alpha", "Beta");
        Assert.Equal(
            $"Messages '{first}' and '{second}' hash to the same wire id {WireNames.WireId(first)}; "
            + $"'{first}' is defined in referenced assembly '{firstIn}' (as {firstIn}.{first}) and '{second}' in referenced assembly '{secondIn}' (as {secondIn}.{second}): "
            + "rename one of them in its library",
            error.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Empty(program.CompilationProblems);
    }

    [Fact]
    public void AProtocolAssemblyDoesNotCheckItsReferences()
    {
        // Wevis.Runtime registers no library: nothing of theirs meets at its start-up.
        (MetadataReference alpha, _) = BuildLibrary("Alpha", "Alpha", "Hello name=str");
        (MetadataReference beta, _) = BuildLibrary("Beta", "Beta", "Hello name=str");

        GeneratorRun program = GeneratorHarness.Run([], ["class C { }"], rootNamespace: "App", protocolAssembly: true, extraReferences: [alpha, beta]);

        Assert.Empty(program.GeneratorDiagnostics);
    }

    /// <summary>Loads the given images by assembly name; everything else (Wevis.Runtime, MessagePack) from the test's own context.</summary>
    private sealed class ImagesLoadContext(Dictionary<string, byte[]> images) : System.Runtime.Loader.AssemblyLoadContext(isCollectible: true)
    {
        protected override System.Reflection.Assembly? Load(System.Reflection.AssemblyName name) =>
            name.Name is { } simple && images.TryGetValue(simple, out byte[]? image) ? LoadFromStream(new MemoryStream(image)) : null;
    }
}
