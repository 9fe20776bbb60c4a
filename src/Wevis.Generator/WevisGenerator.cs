using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Wevis.Generator.Model;

namespace Wevis.Generator
{
    /// <summary>
    /// Turns <c>.wevis</c> definitions files (AdditionalFiles) and <c>[WevisMessage]</c> records into message
    /// records, MessagePack formatters and one message registry per compilation.
    /// </summary>
    /// <remarks>
    /// The pipeline: each file is parsed on its own into a value-equatable model; all models are collected
    /// into one registry model, where checks across files happen; each message and the registry are then
    /// emitted from that model. An edit to C# code leaves every step cached; an edit to one definitions
    /// file re-parses only that file.
    /// </remarks>
    [Generator(LanguageNames.CSharp)]
    public sealed class WevisGenerator : IIncrementalGenerator
    {
        /// <summary>Item metadata naming the namespace for one file's messages.</summary>
        public const string NamespaceMetadata = "build_metadata.AdditionalFiles.Namespace";

        /// <summary>The project's root namespace, the default namespace for messages and the registry's namespace.</summary>
        public const string RootNamespaceProperty = "build_property.RootNamespace";

        /// <summary>Where this project's registry is generated, if not in its root namespace (a library's registry may have that name).</summary>
        public const string RegistryNamespaceProperty = "build_property.WevisRegistryNamespace";

        /// <summary>The assembly attribute each generated registry carries, found in references.</summary>
        private const string RegistryAttributeName = "Wevis.WevisRegistryAttribute";

        /// <summary>Set only by Wevis.Runtime: allows the reserved <c>_</c> names that make up the protocol.</summary>
        public const string ProtocolAssemblyProperty = "build_property.WevisProtocolAssembly";

        /// <inheritdoc/>
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            IncrementalValueProvider<(bool RuntimeReferenced, string AssemblyName)> compilationFacts = context.CompilationProvider
                .Select(static (compilation, _) => (compilation.GetTypeByMetadataName("Wevis.IMessage") is not null, compilation.AssemblyName ?? string.Empty));

            IncrementalValueProvider<GenerationOptionsSpec> options = context.AnalyzerConfigOptionsProvider
                .Combine(compilationFacts)
                .Select(static (input, _) => ReadOptions(input.Left.GlobalOptions, input.Right.RuntimeReferenced, input.Right.AssemblyName))
                .WithTrackingName(TrackingNames.Options);

            // Referenced assemblies with a registry, and their message types: registered from this program, and checked
            // against its own messages (a name defined twice, a registry named twice).
            IncrementalValueProvider<ImmutableEquatableArray<ReferencedRegistrySpec>> referencedRegistries = context.CompilationProvider
                .Select(static (compilation, cancellationToken) => FindReferencedRegistries(compilation, cancellationToken))
                .WithTrackingName(TrackingNames.ReferencedAssemblies);

            // Two of those libraries that share a message name or a wire id: MessageRegistry.Default would refuse them
            // at start-up. A step of its own, so that editing definitions does not run it again.
            IncrementalValueProvider<ImmutableEquatableArray<DiagnosticInfo>> referenceClashes = referencedRegistries
                .Combine(options)
                .Select(static (input, _) => ReferencedLibrariesCheck.Check(input.Left, input.Right))
                .WithTrackingName(TrackingNames.ReferenceClashes);
            context.RegisterSourceOutput(referenceClashes, static (output, found) =>
            {
                foreach (DiagnosticInfo diagnostic in found)
                {
                    output.ReportDiagnostic(diagnostic.ToDiagnostic());
                }
            });

            IncrementalValuesProvider<DefinitionsFileSpec> files = context.AdditionalTextsProvider
                .Where(static text => text.Path.EndsWith(".wevis", StringComparison.OrdinalIgnoreCase))
                .WithTrackingName(TrackingNames.DefinitionsFiles)
                .Combine(context.AnalyzerConfigOptionsProvider)
                .Select(static (input, cancellationToken) => ParseFile(input.Left, input.Right, cancellationToken))
                .WithTrackingName(TrackingNames.ParsedDefinitions);

            // Each definitions file's lock file (x.wevis.lock), parsed as definitions, and compared with it on its own:
            // editing a lock file re-runs only the comparisons, and editing C# re-runs nothing here.
            IncrementalValuesProvider<DefinitionsFileSpec> locks = context.AdditionalTextsProvider
                .Where(static text => text.Path.EndsWith(".wevis" + EvolutionCheck.LockExtension, StringComparison.OrdinalIgnoreCase))
                .WithTrackingName(TrackingNames.LockFiles)
                .Combine(context.AnalyzerConfigOptionsProvider)
                .Select(static (input, cancellationToken) => ParseLock(input.Left, input.Right, cancellationToken))
                .WithTrackingName(TrackingNames.ParsedLocks);

            IncrementalValuesProvider<ImmutableEquatableArray<DiagnosticInfo>> evolution = files
                .Combine(locks.Collect())
                .Select(static (input, _) => EvolutionCheck.Check(input.Left, EvolutionCheck.FindLock(input.Right, input.Left.FilePath)))
                .WithTrackingName(TrackingNames.EvolutionCheck);
            context.RegisterSourceOutput(evolution, static (output, found) =>
            {
                foreach (DiagnosticInfo diagnostic in found)
                {
                    output.ReportDiagnostic(diagnostic.ToDiagnostic());
                }
            });

            IncrementalValuesProvider<CodeMessageSpec> codeMessages = context.SyntaxProvider
                .ForAttributeWithMetadataName(CodeMessageParser.AttributeMetadataName, CodeMessageParser.IsCandidate, CodeMessageParser.Parse)
                .WithTrackingName(TrackingNames.CodeMessages);

            IncrementalValueProvider<RegistrySpec> registry = files.Collect()
                .Combine(codeMessages.Collect())
                .Combine(options)
                .Combine(referencedRegistries)
                .Select(static (input, _) => RegistryBuilder.Build(input.Left.Left.Left, input.Left.Left.Right, input.Left.Right, input.Right))
                .WithTrackingName(TrackingNames.Registry);

            IncrementalValueProvider<ImmutableEquatableArray<DiagnosticInfo>> diagnostics = registry
                .Select(static (spec, _) => spec.Diagnostics)
                .WithTrackingName(TrackingNames.Diagnostics);

            // Those about C# code are put in their syntax trees, so that #pragma and .editorconfig apply to them; the
            // only step after the models that holds Roslyn objects, and it only feeds the report.
            IncrementalValueProvider<ImmutableEquatableArray<LocatedDiagnostic>> located = diagnostics
                .Combine(context.CompilationProvider)
                .Select(static (input, cancellationToken) => SourceLocations.Locate(input.Left, input.Right, cancellationToken))
                .WithTrackingName(TrackingNames.LocatedDiagnostics);
            context.RegisterSourceOutput(located, static (output, found) =>
            {
                foreach (LocatedDiagnostic diagnostic in found)
                {
                    output.ReportDiagnostic(diagnostic.ToDiagnostic());
                }
            });

            IncrementalValuesProvider<MessageEmitSpec> messages = registry
                .SelectMany(static (spec, _) =>
                {
                    string[] hintNames = Emitter.MessageHintNames(spec.Messages.Select(registered => registered.Message).ToList());
                    return spec.Messages
                        .Select((registered, i) => new MessageEmitSpec(
                            registered.Message, spec.Namespace, spec.IsProtocolAssembly, registered.Request, registered.ReplyInterfaces, hintNames[i]))
                        .ToImmutableArray();
                })
                .WithTrackingName(TrackingNames.MessagesToEmit);
            context.RegisterSourceOutput(messages, static (output, message) =>
                output.AddSource(message.HintName, Emitter.EmitMessage(message)));

            IncrementalValueProvider<RegistrySpec?> registryToEmit = registry
                .Select(static (spec, _) => spec.Messages.Count == 0 ? null : spec with { Diagnostics = ImmutableEquatableArray<DiagnosticInfo>.Empty })
                .WithTrackingName(TrackingNames.RegistryToEmit);
            context.RegisterSourceOutput(registryToEmit, static (output, spec) =>
            {
                if (spec is not null)
                {
                    output.AddSource(Emitter.RegistryHintName, Emitter.EmitRegistry(spec));
                }
            });

            IncrementalValueProvider<ReferencedRegistriesSpec?> referenced = referencedRegistries
                .Select(static (found, _) => found.Select(r => r.RegistryType).ToImmutableEquatableArray())
                .Combine(options)
                .Select(static (input, _) => input.Left.Count == 0 || !input.Right.RuntimeReferenced || input.Right.IsProtocolAssembly
                    ? null
                    : new ReferencedRegistriesSpec(
                        // An internal class: with an invalid root namespace (a program named my-game), the global namespace does.
                        WireNames.IsValidRootNamespace(input.Right.RootNamespace) ? input.Right.RootNamespace : string.Empty,
                        input.Left))
                .WithTrackingName(TrackingNames.ReferencedRegistries);
            context.RegisterSourceOutput(referenced, static (output, spec) =>
            {
                if (spec is not null)
                {
                    output.AddSource(Emitter.ReferencedRegistriesHintName, Emitter.EmitReferencedRegistries(spec));
                }
            });
        }

        /// <summary>Finds referenced assemblies that carry <c>[assembly: WevisRegistry(typeof(...))]</c>, with their message types.</summary>
        private static ImmutableEquatableArray<ReferencedRegistrySpec> FindReferencedRegistries(Compilation compilation, CancellationToken cancellationToken)
        {
            INamedTypeSymbol? messageInterface = compilation.GetTypeByMetadataName("Wevis.IMessage");
            var registries = new List<ReferencedRegistrySpec>();
            foreach (IAssemblySymbol assembly in compilation.SourceModule.ReferencedAssemblySymbols)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!assembly.TypeNames.Contains(WireNames.RegistryClassName))
                {
                    continue;
                }

                foreach (AttributeData attribute in assembly.GetAttributes())
                {
                    if (attribute.AttributeClass?.ToDisplayString() == RegistryAttributeName
                        && attribute.ConstructorArguments.Length == 1
                        && attribute.ConstructorArguments[0].Value is INamedTypeSymbol { DeclaredAccessibility: Accessibility.Public } registry)
                    {
                        registries.Add(new ReferencedRegistrySpec(
                            registry.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
                            assembly.Identity.Name,
                            FindMessageTypes(assembly, messageInterface, cancellationToken)));
                    }
                }
            }

            registries.Sort((a, b) => StringComparer.Ordinal.Compare(a.RegistryType, b.RegistryType));
            return registries.ToImmutableEquatableArray();
        }

        /// <summary>
        /// An assembly's message types, by name: public ones, and internal <c>[WevisMessage]</c> records too. A program
        /// cannot name an internal one, but the library's registry holds it, and <c>MessageRegistry.Default</c> (every
        /// loaded registry) would throw at start-up on a name defined twice. Reference assemblies keep internal types,
        /// so a project reference sees them as well as the built library does.
        /// </summary>
        private static ImmutableEquatableArray<ReferencedMessageSpec> FindMessageTypes(
            IAssemblySymbol assembly, INamedTypeSymbol? messageInterface, CancellationToken cancellationToken)
        {
            if (messageInterface is null)
            {
                return ImmutableEquatableArray<ReferencedMessageSpec>.Empty;
            }

            var messages = new List<ReferencedMessageSpec>();
            var namespaces = new Stack<INamespaceSymbol>();
            namespaces.Push(assembly.GlobalNamespace);
            while (namespaces.Count > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                foreach (INamespaceOrTypeSymbol member in namespaces.Pop().GetMembers())
                {
                    if (member is INamespaceSymbol inner)
                    {
                        namespaces.Push(inner);
                    }
                    else if (member is INamedTypeSymbol { TypeKind: TypeKind.Class } type
                        && type.AllInterfaces.Contains(messageInterface, SymbolEqualityComparer.Default))
                    {
                        messages.Add(new ReferencedMessageSpec(
                            type.Name,
                            type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
                            type.DeclaredAccessibility == Accessibility.Public));
                    }
                }
            }

            messages.Sort((a, b) => StringComparer.Ordinal.Compare(a.TypeName, b.TypeName));
            return messages.ToImmutableEquatableArray();
        }

        private static GenerationOptionsSpec ReadOptions(AnalyzerConfigOptions globalOptions, bool runtimeReferenced, string assemblyName)
        {
            globalOptions.TryGetValue(RootNamespaceProperty, out string? rootNamespace);
            globalOptions.TryGetValue(ProtocolAssemblyProperty, out string? protocol);
            globalOptions.TryGetValue(RegistryNamespaceProperty, out string? registryNamespace);
            return new GenerationOptionsSpec(
                rootNamespace?.Trim() ?? string.Empty,
                string.Equals(protocol?.Trim(), "true", StringComparison.OrdinalIgnoreCase),
                runtimeReferenced,
                registryNamespace?.Trim() ?? string.Empty,
                assemblyName);
        }

        /// <summary>Parses a lock file as the definitions it holds; its own errors are not reported (they were the definitions' once).</summary>
        private static DefinitionsFileSpec ParseLock(AdditionalText file, AnalyzerConfigOptionsProvider optionsProvider, CancellationToken cancellationToken)
        {
            optionsProvider.GlobalOptions.TryGetValue(ProtocolAssemblyProperty, out string? protocol);
            bool allowReserved = string.Equals(protocol?.Trim(), "true", StringComparison.OrdinalIgnoreCase);
            Microsoft.CodeAnalysis.Text.SourceText? text = file.GetText(cancellationToken);
            if (text is null)
            {
                return new DefinitionsFileSpec(file.Path, ImmutableEquatableArray<MessageSpec>.Empty, ImmutableEquatableArray<DiagnosticInfo>.Empty);
            }

            return DefinitionsParser.Parse(text, file.Path, string.Empty, allowReserved, cancellationToken) with
            {
                Diagnostics = ImmutableEquatableArray<DiagnosticInfo>.Empty,
            };
        }

        private static DefinitionsFileSpec ParseFile(AdditionalText file, AnalyzerConfigOptionsProvider optionsProvider, CancellationToken cancellationToken)
        {
            AnalyzerConfigOptions fileOptions = optionsProvider.GetOptions(file);
            string? @namespace;
            if (fileOptions.TryGetValue(NamespaceMetadata, out string? fromMetadata) && !string.IsNullOrWhiteSpace(fromMetadata))
            {
                @namespace = fromMetadata;
            }
            else
            {
                optionsProvider.GlobalOptions.TryGetValue(RootNamespaceProperty, out string? root);

                // An invalid RootNamespace is reported once for the project (WEVIS028), which then generates nothing;
                // the file is still parsed, in the global namespace, so that its own errors are reported too.
                @namespace = WireNames.IsValidRootNamespace(root?.Trim() ?? string.Empty) ? root : null;
            }

            optionsProvider.GlobalOptions.TryGetValue(ProtocolAssemblyProperty, out string? protocol);
            bool allowReserved = string.Equals(protocol?.Trim(), "true", StringComparison.OrdinalIgnoreCase);

            Microsoft.CodeAnalysis.Text.SourceText? text = file.GetText(cancellationToken);
            if (text is null)
            {
                return new DefinitionsFileSpec(file.Path, ImmutableEquatableArray<MessageSpec>.Empty, ImmutableEquatableArray<DiagnosticInfo>.Empty);
            }

            return DefinitionsParser.Parse(text, file.Path, @namespace?.Trim() ?? string.Empty, allowReserved, cancellationToken);
        }
    }
}
