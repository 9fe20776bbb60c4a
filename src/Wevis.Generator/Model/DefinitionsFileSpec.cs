namespace Wevis.Generator.Model
{
    /// <summary>What one <c>.wevis</c> file (or its lock file) defines: its valid messages, its version, and the diagnostics found while parsing it.</summary>
    /// <param name="FilePath">The file's path, as the compiler was given it.</param>
    /// <param name="Messages">The messages parsed without error, in file order.</param>
    /// <param name="Diagnostics">Errors found in this file alone.</param>
    /// <param name="Version">The version its <c>@version</c> line declares, or 0 if it has none.</param>
    /// <param name="VersionLocation">Where the version number is written; null without one.</param>
    /// <param name="FailedNames">Messages defined with errors, and so left out: a reply naming one is not reported again.</param>
    internal sealed record DefinitionsFileSpec(
        string FilePath,
        ImmutableEquatableArray<MessageSpec> Messages,
        ImmutableEquatableArray<DiagnosticInfo> Diagnostics,
        int Version = 0,
        LocationInfo? VersionLocation = null,
        ImmutableEquatableArray<string>? FailedNames = null);

    /// <summary>What one <c>[WevisMessage]</c> declaration yields: a message, or the reasons it cannot be one.</summary>
    /// <param name="Message">The message, or null if it has errors.</param>
    /// <param name="Diagnostics">Its errors and warnings.</param>
    /// <param name="Name">The record's name, with or without errors.</param>
    internal sealed record CodeMessageSpec(MessageSpec? Message, ImmutableEquatableArray<DiagnosticInfo> Diagnostics, string Name = "");

    /// <summary>Compilation-wide settings, read from MSBuild properties and the references.</summary>
    /// <param name="RootNamespace">The project's root namespace; the default for messages and the registry's namespace.</param>
    /// <param name="IsProtocolAssembly">True only for Wevis.Runtime itself, whose reserved <c>_</c> messages are the protocol.</param>
    /// <param name="RuntimeReferenced">Whether <c>Wevis.IMessage</c> can be found: without it the generated code cannot compile.</param>
    /// <param name="RegistryNamespaceProperty">The <c>WevisRegistryNamespace</c> property: where the registry goes instead of the root namespace; empty if not set.</param>
    /// <param name="AssemblyName">The compilation's assembly name, for advice in errors.</param>
    internal sealed record GenerationOptionsSpec(
        string RootNamespace, bool IsProtocolAssembly, bool RuntimeReferenced, string RegistryNamespaceProperty = "", string AssemblyName = "")
    {
        /// <summary>The namespace the registry is generated in: <c>WevisRegistryNamespace</c> if set, else the root namespace.</summary>
        public string RegistryNamespace => RegistryNamespaceProperty.Length > 0 ? RegistryNamespaceProperty : RootNamespace;
    }

    /// <summary>A message of a referenced assembly's registry.</summary>
    /// <param name="Name">Its name (the wire name).</param>
    /// <param name="TypeName">Its fully qualified type (<c>global::Game.Hello</c>).</param>
    /// <param name="IsPublic">False for an internal record, which the program cannot name but its registry still holds.</param>
    internal sealed record ReferencedMessageSpec(string Name, string TypeName, bool IsPublic = true);

    /// <summary>A referenced assembly that carries a Wevis registry, and its message types.</summary>
    /// <param name="RegistryType">The registry class, fully qualified (<c>global::Game.WevisRegistry</c>).</param>
    /// <param name="AssemblyName">The assembly's name, for errors.</param>
    /// <param name="Messages">Its message types, public and internal, sorted by name.</param>
    internal sealed record ReferencedRegistrySpec(string RegistryType, string AssemblyName, ImmutableEquatableArray<ReferencedMessageSpec> Messages);

    /// <summary>What a request needs emitted: the type its replies share, and the interface to declare when it has several.</summary>
    /// <param name="ReplyTypeName">The fully qualified reply type: the one reply, or the shared interface (<c>global::App.IJoinReply</c>).</param>
    /// <param name="ReplyInterfaceName">The shared interface's simple name (<c>IJoinReply</c>), declared beside the request; null for one reply.</param>
    /// <param name="ReplyTypeNames">The fully qualified types of every reply, for docs.</param>
    internal sealed record RequestSpec(string ReplyTypeName, string? ReplyInterfaceName, ImmutableEquatableArray<string> ReplyTypeNames);

    /// <summary>A message of the registry, with what the cross-file checks found out about it.</summary>
    /// <param name="Message">The message as parsed.</param>
    /// <param name="Request">If it is a request, what to emit for its replies; else null.</param>
    /// <param name="ReplyInterfaces">The shared reply interfaces it implements, as a reply to requests with several replies (fully qualified, sorted).</param>
    internal sealed record RegisteredMessage(MessageSpec Message, RequestSpec? Request, ImmutableEquatableArray<string> ReplyInterfaces);

    /// <summary>Every valid message of the compilation and the diagnostics for all of them, after cross-file checks.</summary>
    internal sealed record RegistrySpec(
        string Namespace,
        bool IsProtocolAssembly,
        ImmutableEquatableArray<RegisteredMessage> Messages,
        ImmutableEquatableArray<DiagnosticInfo> Diagnostics);

    /// <summary>One message to emit, with what it needs to know of its registry.</summary>
    /// <param name="HintName">Its generated file's hint name, valid for Roslyn and unique (ignoring case) among the compilation's.</param>
    internal sealed record MessageEmitSpec(
        MessageSpec Message,
        string RegistryNamespace,
        bool IsProtocolAssembly,
        RequestSpec? Request,
        ImmutableEquatableArray<string> ReplyInterfaces,
        string HintName);

    /// <summary>The registries of referenced assemblies (fully qualified type names, sorted) and where to register them from.</summary>
    internal sealed record ReferencedRegistriesSpec(string Namespace, ImmutableEquatableArray<string> RegistryTypes);
}
