using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Wevis.Generator.Model;

namespace Wevis.Generator
{
    /// <summary>
    /// Gathers every file's and every record's messages into one <see cref="RegistrySpec"/>, applying the checks
    /// that span files: duplicate names, wire-id collisions, and replies (each must be a message of this project
    /// that the server sends). Works on small models only, never on file text.
    /// </summary>
    internal static class RegistryBuilder
    {
        public static RegistrySpec Build(
            ImmutableArray<DefinitionsFileSpec> files,
            ImmutableArray<CodeMessageSpec> codeMessages,
            GenerationOptionsSpec options,
            ImmutableEquatableArray<ReferencedRegistrySpec>? referenced = null)
        {
            referenced ??= ImmutableEquatableArray<ReferencedRegistrySpec>.Empty;
            var diagnostics = new List<DiagnosticInfo>();
            var candidates = new List<MessageSpec>();
            var failedNames = new HashSet<string>(StringComparer.Ordinal);

            // A fixed order (path, then position) so the same inputs always give the same "first" definition.
            foreach (DefinitionsFileSpec file in files.OrderBy(f => f.FilePath, StringComparer.Ordinal))
            {
                diagnostics.AddRange(file.Diagnostics);
                candidates.AddRange(file.Messages);
                failedNames.UnionWith(file.FailedNames ?? ImmutableEquatableArray<string>.Empty);
            }

            foreach (CodeMessageSpec code in codeMessages
                .OrderBy(c => c.Message?.NameLocation.FilePath ?? c.Diagnostics.FirstOrDefault()?.Location?.FilePath, StringComparer.Ordinal)
                .ThenBy(c => c.Message?.NameLocation.Start ?? c.Diagnostics.FirstOrDefault()?.Location?.Start ?? 0))
            {
                diagnostics.AddRange(code.Diagnostics);
                if (code.Message is not null)
                {
                    candidates.Add(code.Message);
                }
                else
                {
                    failedNames.Add(code.Name);
                }
            }

            // A program's messages include those of the libraries it references (MessageRegistry.Default has them all).
            var referencedByName = new Dictionary<string, (ReferencedRegistrySpec Registry, ReferencedMessageSpec Message)>(StringComparer.Ordinal);
            var referencedByWireId = new Dictionary<int, (ReferencedRegistrySpec Registry, ReferencedMessageSpec Message)>();
            foreach (ReferencedRegistrySpec registry in referenced)
            {
                foreach (ReferencedMessageSpec message in registry.Messages)
                {
                    if (!referencedByName.ContainsKey(message.Name))
                    {
                        referencedByName.Add(message.Name, (registry, message));
                    }

                    // A wire id is the name's hash alone, so the library's is known without reading its code.
                    int wireId = WireNames.WireId(message.Name);
                    if (!referencedByWireId.ContainsKey(wireId))
                    {
                        referencedByWireId.Add(wireId, (registry, message));
                    }
                }
            }

            var byName = new Dictionary<string, MessageSpec>(StringComparer.Ordinal);
            var byWireId = new Dictionary<int, MessageSpec>();
            var messages = new List<MessageSpec>();
            foreach (MessageSpec message in candidates)
            {
                // An internal message too: the program cannot name it, but the library's registry holds it, and
                // MessageRegistry.Default would refuse the two at start-up.
                if (referencedByName.TryGetValue(message.Name, out var inLibrary))
                {
                    string libraryType = inLibrary.Message.TypeName.Replace("global::", string.Empty);
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.MessageInReferencedAssembly,
                        message.NameLocation,
                        message.Name,
                        inLibrary.Registry.AssemblyName,
                        inLibrary.Message.IsPublic ? libraryType : libraryType + ", internal to it",
                        inLibrary.Message.IsPublic ? "rename this one, or use the library's" : "rename this one"));
                    failedNames.Add(message.Name);
                    continue;
                }

                if (byName.TryGetValue(message.Name, out MessageSpec? first))
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.DuplicateMessage,
                        message.NameLocation,
                        first.NameLocation,
                        message.Name,
                        DefinitionsParser.Describe(first.NameLocation)));
                    continue;
                }

                // Another name with this one's wire id in a library: MessageRegistry.Default would refuse the pair at start-up.
                if (referencedByWireId.TryGetValue(message.WireId, out var sameIdInLibrary))
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.WireIdCollision,
                        message.NameLocation,
                        sameIdInLibrary.Message.Name,
                        message.Name,
                        message.WireId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        $"'{sameIdInLibrary.Message.Name}' is defined in referenced assembly '{sameIdInLibrary.Registry.AssemblyName}' "
                            + $"(as {sameIdInLibrary.Message.TypeName.Replace("global::", string.Empty)}): rename '{message.Name}'"));
                    failedNames.Add(message.Name);
                    continue;
                }

                if (byWireId.TryGetValue(message.WireId, out MessageSpec? clash))
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.WireIdCollision,
                        message.NameLocation,
                        clash.NameLocation,
                        clash.Name,
                        message.Name,
                        message.WireId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        "rename one of them"));
                    continue;
                }

                byName.Add(message.Name, message);
                byWireId.Add(message.WireId, message);
                messages.Add(message);
            }

            if (messages.Count > 0 && !options.RuntimeReferenced)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.RuntimeNotReferenced, null));
                messages.Clear();
            }

            // The registry (which every message's formatter names) lives in the root namespace, so without a valid one
            // nothing can be generated: one error, rather than C# syntax errors in every generated file.
            string registryNamespace = options.RegistryNamespace;
            if (messages.Count > 0 && !WireNames.IsValidRootNamespace(registryNamespace))
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.InvalidRootNamespace,
                    null,
                    registryNamespace,
                    WireNames.SuggestNamespace(registryNamespace),
                    options.RegistryNamespaceProperty.Length > 0 ? "WevisRegistryNamespace" : "RootNamespace"));
                messages.Clear();
            }

            // A library with the same root namespace has a registry of the same name: this project's would hide it (CS0436),
            // and neither this project's code nor its generated code could name the library's. The user picks another name.
            string registryType = WireNames.RegistryTypeName(registryNamespace);
            if (messages.Count > 0 && referenced.FirstOrDefault(r => r.RegistryType == registryType) is { } taken)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.RegistryNameTaken,
                    null,
                    registryType.Replace("global::", string.Empty),
                    taken.AssemblyName,
                    SuggestRegistryNamespace(registryNamespace, options.AssemblyName)));
                messages.Clear();
            }

            List<RegisteredMessage> registered = ResolveReplies(messages, byName, failedNames, diagnostics);
            registered.Sort((a, b) => StringComparer.Ordinal.Compare(a.Message.Name, b.Message.Name));
            return new RegistrySpec(
                registryNamespace,
                options.IsProtocolAssembly,
                registered.ToImmutableEquatableArray(),
                diagnostics.ToImmutableEquatableArray());
        }

        /// <summary>A namespace for a registry whose name is taken: the assembly's name if it differs, else one below the namespace.</summary>
        private static string SuggestRegistryNamespace(string registryNamespace, string assemblyName)
        {
            string fromAssembly = assemblyName.Length == 0 ? string.Empty : WireNames.SuggestNamespace(assemblyName);
            if (fromAssembly.Length > 0 && fromAssembly != registryNamespace)
            {
                return fromAssembly;
            }

            return registryNamespace.Length == 0 ? "Messages" : registryNamespace + ".Messages";
        }

        /// <summary>
        /// Checks every request's replies and works out what each message implements: a request with one reply is an
        /// <c>IRequest&lt;Reply&gt;</c>; one with several gets an interface of its own (<c>IJoinReply</c>), which each of
        /// its replies implements. A request whose replies are wrong is left out, with an error at the reply.
        /// </summary>
        private static List<RegisteredMessage> ResolveReplies(
            List<MessageSpec> messages, Dictionary<string, MessageSpec> byName, HashSet<string> failedNames, List<DiagnosticInfo> diagnostics)
        {
            var replyTypes = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            var rejected = new HashSet<string>(StringComparer.Ordinal);
            foreach (MessageSpec request in messages.Where(m => m.IsRequest))
            {
                var types = new List<string>();
                foreach (ReplySpec reply in request.Replies)
                {
                    if (!byName.ContainsKey(reply.Name) && failedNames.Contains(reply.Name))
                    {
                        // The reply has errors of its own, reported already: leave the request out without a second error.
                        rejected.Add(request.Name);
                    }
                    else if (!byName.TryGetValue(reply.Name, out MessageSpec? found)
                        || (reply.TypeName is not null && reply.TypeName != found.FullTypeName))
                    {
                        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnknownReply, reply.Location, reply.TypeName ?? reply.Name, request.Name));
                        rejected.Add(request.Name);
                    }
                    else if (found.Direction == Direction.ClientToServer)
                    {
                        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ReplySentByClients, reply.Location, found.Name, request.Name));
                        rejected.Add(request.Name);
                    }
                    else
                    {
                        types.Add(found.FullTypeName);
                    }
                }

                replyTypes.Add(request.Name, types);
            }

            // A request answered by a request that is left out is left out too (its error is reported already), so
            // that nothing generated names a type that is not.
            bool changed = true;
            while (changed)
            {
                changed = false;
                foreach (MessageSpec request in messages.Where(m => m.IsRequest && !rejected.Contains(m.Name)))
                {
                    if (request.Replies.Any(r => rejected.Contains(r.Name)))
                    {
                        rejected.Add(request.Name);
                        changed = true;
                    }
                }
            }

            var requests = new Dictionary<string, RequestSpec>(StringComparer.Ordinal);
            var replyInterfaces = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
            foreach (MessageSpec request in messages.Where(m => m.IsRequest && !rejected.Contains(m.Name)))
            {
                List<string> types = replyTypes[request.Name];
                if (types.Count == 1)
                {
                    requests.Add(request.Name, new RequestSpec(types[0], null, types.ToImmutableEquatableArray()));
                    continue;
                }

                string interfaceName = "I" + request.TypeName + "Reply";
                string interfaceType = request.Namespace.Length == 0 ? "global::" + interfaceName : "global::" + request.Namespace + "." + interfaceName;
                requests.Add(request.Name, new RequestSpec(interfaceType, interfaceName, types.ToImmutableEquatableArray()));
                foreach (ReplySpec reply in request.Replies)
                {
                    if (!replyInterfaces.TryGetValue(reply.Name, out SortedSet<string>? implemented))
                    {
                        replyInterfaces.Add(reply.Name, implemented = new SortedSet<string>(StringComparer.Ordinal));
                    }

                    implemented.Add(interfaceType);
                }
            }

            return messages
                .Where(m => !rejected.Contains(m.Name))
                .Select(m => new RegisteredMessage(
                    m,
                    requests.TryGetValue(m.Name, out RequestSpec? request) ? request : null,
                    replyInterfaces.TryGetValue(m.Name, out SortedSet<string>? implemented)
                        ? implemented.ToImmutableEquatableArray()
                        : ImmutableEquatableArray<string>.Empty))
                .ToList();
        }
    }
}
