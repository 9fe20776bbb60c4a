using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using Wevis.Generator;
using Wevis.Generator.Model;

namespace Wevis.Cli.Definitions;

/// <summary>
/// Reads <c>.wevis</c> files with the generator's own parser and checks (<see cref="DefinitionsParser"/>,
/// <see cref="RegistryBuilder"/>, and <see cref="EvolutionCheck"/> against each file's lock file): the same messages,
/// wire ids and diagnostics the build would give, and a registry of run-time message types to speak them.
/// </summary>
internal static class DefinitionsLoader
{
    /// <summary>Parses and checks <paramref name="paths"/> together, as one project's definitions.</summary>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    public static LoadedDefinitions Load(IReadOnlyList<string> paths)
    {
        var files = ImmutableArray.CreateBuilder<DefinitionsFileSpec>(paths.Count);
        foreach (string path in paths)
        {
            string full = Path.GetFullPath(path);
            if (!File.Exists(full))
            {
                throw new FileNotFoundException($"The definitions file {full} does not exist.", full);
            }

            SourceText text = SourceText.From(File.ReadAllText(full), System.Text.Encoding.UTF8);
            files.Add(DefinitionsParser.Parse(text, full, string.Empty, allowReservedNames: false, CancellationToken.None));
        }

        RegistrySpec registry = RegistryBuilder.Build(
            files.ToImmutable(),
            ImmutableArray<CodeMessageSpec>.Empty,
            new GenerationOptionsSpec(string.Empty, IsProtocolAssembly: false, RuntimeReferenced: true));
        List<Diagnostic> diagnostics = [.. registry.Diagnostics.Select(d => d.ToDiagnostic())];
        foreach (DefinitionsFileSpec file in files)
        {
            if (ParseLock(file.FilePath) is { } published)
            {
                diagnostics.AddRange(EvolutionCheck.Check(file, published).Select(d => d.ToDiagnostic()));
            }
        }

        DynamicMessageDescriptor[] messages = [.. registry.Messages.Select(m => ToDescriptor(m.Message))];
        return new LoadedDefinitions(paths, diagnostics, messages);
    }

    /// <summary>
    /// The lock file beside <paramref name="definitionsPath"/> (<c>x.wevis.lock</c>: the definitions as last published),
    /// parsed as the build parses it, its own errors not reported; null if there is none.
    /// </summary>
    private static DefinitionsFileSpec? ParseLock(string definitionsPath)
    {
        string path = definitionsPath + EvolutionCheck.LockExtension;
        if (!File.Exists(path))
        {
            return null;
        }

        SourceText text = SourceText.From(File.ReadAllText(path), System.Text.Encoding.UTF8);
        return DefinitionsParser.Parse(text, path, string.Empty, allowReservedNames: false, CancellationToken.None) with
        {
            Diagnostics = ImmutableEquatableArray<DiagnosticInfo>.Empty,
        };
    }

    /// <summary>A run-time descriptor for a parsed message: the generator's name, wire id and arguments.</summary>
    public static DynamicMessageDescriptor ToDescriptor(MessageSpec spec) =>
        new(
            spec.Name,
            spec.WireId,
            [.. spec.Arguments.Select(a => new MessageArgument(a.Name, a.PropertyName, ToArgumentType(a.Type), a.Bound == 0 ? null : a.Bound))],
            (MessageDirection)(int)spec.Direction,
            [.. spec.Replies.Select(r => r.Name)],
            spec.DefinitionsVersion);

    /// <summary>The runtime's name for a definitions type (the two enums are kept in step; the tests check it).</summary>
    public static ArgumentType ToArgumentType(WireType type) => type switch
    {
        WireType.Int32 => ArgumentType.Int32,
        WireType.Int64 => ArgumentType.Int64,
        WireType.Double => ArgumentType.Double,
        WireType.Boolean => ArgumentType.Boolean,
        WireType.String => ArgumentType.String,
        WireType.Bytes => ArgumentType.Bytes,
        WireType.SingleArray => ArgumentType.SingleArray,
        WireType.DoubleArray => ArgumentType.DoubleArray,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "A wire type the tool does not know."),
    };
}

/// <summary>What <see cref="DefinitionsLoader.Load"/> found: the build's diagnostics, and the messages if there are no errors.</summary>
internal sealed class LoadedDefinitions(IReadOnlyList<string> paths, IReadOnlyList<Diagnostic> diagnostics, IReadOnlyList<DynamicMessageDescriptor> messages)
{
    private MessageRegistry? _registry;

    public IReadOnlyList<string> Paths { get; } = paths;

    public IReadOnlyList<Diagnostic> Diagnostics { get; } = diagnostics;

    public bool HasErrors => Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error);

    /// <summary>The valid messages, by name.</summary>
    public IReadOnlyList<DynamicMessageDescriptor> Messages { get; } = messages;

    /// <summary>The registry a client speaks them with; its fingerprint is a generated registry's.</summary>
    public MessageRegistry Registry => _registry ??= new MessageRegistry(Messages);

    public DynamicMessageDescriptor? Find(string name) => Messages.FirstOrDefault(m => m.Name == name);
}
