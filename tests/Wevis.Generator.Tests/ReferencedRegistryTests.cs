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
    private static (MetadataReference Reference, byte[] Image) BuildLibrary(string rootNamespace, string assemblyName, string definitions)
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
    private static MetadataReference BuildCodeLibrary(string source, bool referenceAssembly)
    {
        GeneratorRun library = GeneratorHarness.Run([], [source], rootNamespace: "Shared");
        Assert.Empty(library.GeneratorDiagnostics);
        Assert.Empty(library.CompilationProblems);
        using var image = new MemoryStream();
        EmitResult emitted = library.Output.WithAssemblyName("Shared").Emit(
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

    /// <summary>Loads the given images by assembly name; everything else (Wevis.Runtime, MessagePack) from the test's own context.</summary>
    private sealed class ImagesLoadContext(Dictionary<string, byte[]> images) : System.Runtime.Loader.AssemblyLoadContext(isCollectible: true)
    {
        protected override System.Reflection.Assembly? Load(System.Reflection.AssemblyName name) =>
            name.Name is { } simple && images.TryGetValue(simple, out byte[]? image) ? LoadFromStream(new MemoryStream(image)) : null;
    }
}
