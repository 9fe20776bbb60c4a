using Wevis.Tests.Shared;

namespace Wevis.Docs.Tests;

/// <summary>
/// Excerpts of generated code (<c>&lt;!-- snippet: generated --&gt;</c>) are not compiled: they show what the generator
/// writes. Each must appear in one of the generator's golden files (which the generator tests compare with its
/// output), its parts split at <c>…</c> lines appearing in order; indentation and blank lines do not count.
/// </summary>
internal static class GeneratedExcerpts
{
    private static readonly Lazy<string[][]> s_goldenFiles = new(() =>
        [.. Directory.EnumerateFiles(Repository.PathOf("tests/Wevis.Generator.Tests/Snapshots"), "*.verified.cs")
            .Select(path => File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray())]);

    /// <summary>A problem for each excerpt of <paramref name="page"/> that no golden file holds.</summary>
    public static IEnumerable<string> Check(MarkdownPage page) => page.Blocks
        .Where(block => block.IsCSharp && SnippetCompiler.Classify(block) == SnippetKind.Generated && !IsGenerated(block.Lines))
        .Select(block => $"{page.RelativePath}({block.Line}): this excerpt of generated code is not in any golden file of the generator tests.");

    /// <summary>Whether <paramref name="lines"/>, split at <c>…</c> lines, appear in order in one golden file.</summary>
    public static bool IsGenerated(IEnumerable<string> lines)
    {
        List<List<string>> parts = [[]];
        foreach (string line in lines.Select(l => l.Trim()).Where(l => l.Length > 0))
        {
            if (line is "…" or "// …")
            {
                parts.Add([]);
            }
            else
            {
                parts[^1].Add(line);
            }
        }

        parts.RemoveAll(part => part.Count == 0);
        return parts.Count > 0 && s_goldenFiles.Value.Any(file => ContainsInOrder(file, parts));
    }

    private static bool ContainsInOrder(string[] lines, List<List<string>> parts)
    {
        int from = 0;
        foreach (List<string> part in parts)
        {
            int at = IndexOf(lines, part, from);
            if (at < 0)
            {
                return false;
            }

            from = at + part.Count;
        }

        return true;
    }

    private static int IndexOf(string[] lines, List<string> part, int from)
    {
        for (int start = from; start + part.Count <= lines.Length; start++)
        {
            if (lines.AsSpan(start, part.Count).SequenceEqual(part.ToArray()))
            {
                return start;
            }
        }

        return -1;
    }
}
