namespace Wevis.Generator.Model
{
    /// <summary>What one <c>.wevis</c> file defines: its valid messages and the diagnostics found while parsing it.</summary>
    /// <param name="FilePath">The file's path, as the compiler was given it.</param>
    /// <param name="Messages">The messages parsed without error, in file order.</param>
    /// <param name="Diagnostics">Errors found in this file alone.</param>
    internal sealed record DefinitionsFileSpec(
        string FilePath,
        ImmutableEquatableArray<MessageSpec> Messages,
        ImmutableEquatableArray<DiagnosticInfo> Diagnostics);

    /// <summary>What one <c>[WevisMessage]</c> declaration yields: a message, or the reasons it cannot be one.</summary>
    internal sealed record CodeMessageSpec(MessageSpec? Message, ImmutableEquatableArray<DiagnosticInfo> Diagnostics);

    /// <summary>Compilation-wide settings, read from MSBuild properties and the references.</summary>
    /// <param name="RootNamespace">The project's root namespace; the default for messages and the registry's namespace.</param>
    /// <param name="IsProtocolAssembly">True only for Wevis.Runtime itself, whose reserved <c>_</c> messages are the protocol.</param>
    /// <param name="RuntimeReferenced">Whether <c>Wevis.IMessage</c> can be found: without it the generated code cannot compile.</param>
    internal sealed record GenerationOptionsSpec(string RootNamespace, bool IsProtocolAssembly, bool RuntimeReferenced);

    /// <summary>Every valid message of the compilation and the diagnostics for all of them, after cross-file checks.</summary>
    internal sealed record RegistrySpec(
        string Namespace,
        bool IsProtocolAssembly,
        ImmutableEquatableArray<MessageSpec> Messages,
        ImmutableEquatableArray<DiagnosticInfo> Diagnostics);

    /// <summary>One message to emit, with what it needs to know of its registry.</summary>
    internal sealed record MessageEmitSpec(MessageSpec Message, string RegistryNamespace, bool IsProtocolAssembly);

    /// <summary>The registries of referenced assemblies (fully qualified type names, sorted) and where to register them from.</summary>
    internal sealed record ReferencedRegistriesSpec(string Namespace, ImmutableEquatableArray<string> RegistryTypes);
}
