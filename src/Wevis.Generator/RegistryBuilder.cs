using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Wevis.Generator.Model;

namespace Wevis.Generator
{
    /// <summary>
    /// Gathers every file's and every record's messages into one <see cref="RegistrySpec"/>, applying the checks
    /// that span files: duplicate names and wire-id collisions. Works on small models only, never on file text.
    /// </summary>
    internal static class RegistryBuilder
    {
        public static RegistrySpec Build(
            ImmutableArray<DefinitionsFileSpec> files, ImmutableArray<CodeMessageSpec> codeMessages, GenerationOptionsSpec options)
        {
            var diagnostics = new List<DiagnosticInfo>();
            var candidates = new List<MessageSpec>();

            // A fixed order (path, then position) so the same inputs always give the same "first" definition.
            foreach (DefinitionsFileSpec file in files.OrderBy(f => f.FilePath, StringComparer.Ordinal))
            {
                diagnostics.AddRange(file.Diagnostics);
                candidates.AddRange(file.Messages);
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
            }

            var byName = new Dictionary<string, MessageSpec>(StringComparer.Ordinal);
            var byWireId = new Dictionary<int, MessageSpec>();
            var messages = new List<MessageSpec>();
            foreach (MessageSpec message in candidates)
            {
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

                if (byWireId.TryGetValue(message.WireId, out MessageSpec? clash))
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.WireIdCollision,
                        message.NameLocation,
                        clash.NameLocation,
                        clash.Name,
                        message.Name,
                        message.WireId.ToString(System.Globalization.CultureInfo.InvariantCulture)));
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

            messages.Sort((a, b) => StringComparer.Ordinal.Compare(a.Name, b.Name));
            return new RegistrySpec(
                options.RootNamespace,
                options.IsProtocolAssembly,
                messages.ToImmutableEquatableArray(),
                diagnostics.ToImmutableEquatableArray());
        }
    }
}
