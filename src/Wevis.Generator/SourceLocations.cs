using System;
using System.Collections.Generic;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using Wevis.Generator.Model;

namespace Wevis.Generator
{
    /// <summary>
    /// Puts diagnostics about C# code back into the compilation's syntax trees, just before they are reported.
    /// </summary>
    /// <remarks>
    /// The models keep locations as plain values (<see cref="LocationInfo"/>), which turn into external-file
    /// locations. The compiler applies <c>#pragma warning disable</c>, <c>[SuppressMessage]</c> and per-file
    /// <c>.editorconfig</c> severities only to a diagnostic located in one of the compilation's syntax trees
    /// (dotnet/roslyn#68291), so a warning about a <c>[WevisMessage]</c> record could only be silenced for the whole
    /// project. This is the one step that looks at the compilation for diagnostics: it runs after every model step,
    /// so none of them holds a tree, and it finds each diagnostic's tree by the path its location names. A location
    /// in a definitions file (no tree has its path) stays as it was.
    /// </remarks>
    internal static class SourceLocations
    {
        public static ImmutableEquatableArray<LocatedDiagnostic> Locate(
            ImmutableEquatableArray<DiagnosticInfo> diagnostics, Compilation compilation, CancellationToken cancellationToken)
        {
            if (diagnostics.Count == 0)
            {
                return ImmutableEquatableArray<LocatedDiagnostic>.Empty;
            }

            var paths = new HashSet<string>(StringComparer.Ordinal);
            foreach (DiagnosticInfo diagnostic in diagnostics)
            {
                if (diagnostic.Location is { FilePath.Length: > 0 } location)
                {
                    paths.Add(location.FilePath);
                }
            }

            var trees = new Dictionary<string, SyntaxTree>(StringComparer.Ordinal);
            if (paths.Count > 0)
            {
                foreach (SyntaxTree tree in compilation.SyntaxTrees)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (paths.Contains(tree.FilePath) && !trees.ContainsKey(tree.FilePath))
                    {
                        trees.Add(tree.FilePath, tree);
                    }
                }
            }

            var located = new List<LocatedDiagnostic>(diagnostics.Count);
            foreach (DiagnosticInfo diagnostic in diagnostics)
            {
                SyntaxTree? tree = diagnostic.Location is { } location
                    && trees.TryGetValue(location.FilePath, out SyntaxTree? found)
                    && location.Start + location.Length <= found.Length
                        ? found
                        : null;
                located.Add(new LocatedDiagnostic(diagnostic, tree));
            }

            return located.ToImmutableEquatableArray();
        }
    }

    /// <summary>
    /// A diagnostic and the syntax tree its location is in (null for a definitions file). It compares the tree by
    /// reference: after an edit elsewhere the tree is the same object and the step's output is unchanged.
    /// </summary>
    internal readonly record struct LocatedDiagnostic(DiagnosticInfo Info, SyntaxTree? Tree)
    {
        public Diagnostic ToDiagnostic() =>
            Tree is null || Info.Location is not { } location
                ? Info.ToDiagnostic()
                : Info.ToDiagnostic(Location.Create(Tree, new TextSpan(location.Start, location.Length)));
    }
}
