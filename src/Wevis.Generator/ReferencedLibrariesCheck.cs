using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Wevis.Generator.Model;

namespace Wevis.Generator
{
    /// <summary>
    /// Checks the libraries a program references against each other: a message name defined in two of them (WEVIS041),
    /// or two names, one in each, with the same wire id (WEVIS011). The program's module initializer registers every
    /// library's registry in <c>MessageRegistry.Default</c>, which would throw <c>InvalidOperationException</c> at
    /// start-up on either; the build says so first. (The program's own messages are checked against the libraries'
    /// in <see cref="RegistryBuilder"/>, each library's against its own when it is built.)
    /// </summary>
    /// <remarks>
    /// No text of the program makes the clash, so the errors have no location, as WEVIS039's. Each clash is reported
    /// once, whatever the order of the references: names and assemblies are compared in ordinal order.
    /// </remarks>
    internal static class ReferencedLibrariesCheck
    {
        public static ImmutableEquatableArray<DiagnosticInfo> Check(ImmutableEquatableArray<ReferencedRegistrySpec> referenced, GenerationOptionsSpec options)
        {
            // As for the registration itself (WevisReferencedRegistries): only a project that registers the libraries.
            if (referenced.Count < 2 || !options.RuntimeReferenced || options.IsProtocolAssembly)
            {
                return ImmutableEquatableArray<DiagnosticInfo>.Empty;
            }

            List<Definition> definitions = referenced
                .SelectMany(registry => registry.Messages.Select(message => new Definition(registry.AssemblyName, message)))
                .OrderBy(d => d.Message.Name, StringComparer.Ordinal)
                .ThenBy(d => d.AssemblyName, StringComparer.Ordinal)
                .ThenBy(d => d.Message.TypeName, StringComparer.Ordinal)
                .ToList();

            var diagnostics = new List<DiagnosticInfo>();
            foreach (IGrouping<string, Definition> sameName in definitions.GroupBy(d => d.Message.Name, StringComparer.Ordinal))
            {
                // One definition per assembly: two in one library are that library's own error (WEVIS005), reported when it was built.
                List<Definition> inAssemblies = sameName.GroupBy(d => d.AssemblyName, StringComparer.Ordinal).Select(g => g.First()).ToList();
                if (inAssemblies.Count > 1)
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.MessageInTwoReferencedAssemblies,
                        null,
                        sameName.Key,
                        Enumerate(inAssemblies.Select(d => $"'{d.AssemblyName}' (as {d.Describe()})").ToList()),
                        inAssemblies.Count == 2
                            ? "rename it in one of the two libraries, or define it in one library that the other references"
                            : "rename it in all but one of the libraries, or define it in one library that the others reference"));
                }
            }

            foreach (IGrouping<int, Definition> sameWireId in definitions
                .GroupBy(d => WireNames.WireId(d.Message.Name))
                .OrderBy(g => g.Key))
            {
                // The first name (in ordinal order) against each other name of an assembly of its own: one error per pair.
                Definition first = sameWireId.First();
                foreach (IGrouping<string, Definition> other in sameWireId
                    .Where(d => d.Message.Name != first.Message.Name)
                    .GroupBy(d => d.Message.Name, StringComparer.Ordinal))
                {
                    (Definition One, Definition Other)? pair = sameWireId
                        .Where(d => d.Message.Name == first.Message.Name)
                        .SelectMany(one => other.Where(d => d.AssemblyName != one.AssemblyName).Select(d => ((Definition, Definition)?)(one, d)))
                        .FirstOrDefault();
                    if (pair is not { } found)
                    {
                        continue; // Both in one library: its own error (WEVIS011), reported when it was built.
                    }

                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.WireIdCollision,
                        null,
                        found.One.Message.Name,
                        found.Other.Message.Name,
                        sameWireId.Key.ToString(CultureInfo.InvariantCulture),
                        $"'{found.One.Message.Name}' is defined in referenced assembly '{found.One.AssemblyName}' (as {found.One.Describe()}) "
                            + $"and '{found.Other.Message.Name}' in referenced assembly '{found.Other.AssemblyName}' (as {found.Other.Describe()}): "
                            + "rename one of them in its library"));
                }
            }

            return diagnostics.ToImmutableEquatableArray();
        }

        /// <summary>"a and b", "a, b and c".</summary>
        private static string Enumerate(List<string> items) =>
            items.Count == 1 ? items[0] : string.Join(", ", items.Take(items.Count - 1)) + " and " + items[items.Count - 1];

        /// <summary>A message type of a referenced assembly.</summary>
        private sealed record Definition(string AssemblyName, ReferencedMessageSpec Message)
        {
            /// <summary>Its type as the errors name it: <c>Shared.Hello</c>, or <c>Shared.Hello, internal to it</c>.</summary>
            public string Describe()
            {
                string type = Message.TypeName.Replace("global::", string.Empty);
                return Message.IsPublic ? type : type + ", internal to it";
            }
        }
    }
}
