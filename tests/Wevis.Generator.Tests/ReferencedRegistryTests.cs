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
}
