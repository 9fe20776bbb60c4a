using System.Text.RegularExpressions;

namespace Wevis.Tests.Shared;

/// <summary>A fenced code block of a Markdown page.</summary>
/// <param name="Language">The first word of the info string (<c>csharp</c>, <c>sh</c>, …), or empty.</param>
/// <param name="Line">The 1-based line of the block's first line of code (the line after the opening fence).</param>
/// <param name="Lines">The code, line by line.</param>
/// <param name="Directive">The words of the <c>&lt;!-- snippet: … --&gt;</c> comment just before the block, or empty.</param>
internal sealed record CodeBlock(string Language, int Line, string[] Lines, string Directive)
{
    /// <summary>The code as one text.</summary>
    public string Text => string.Join('\n', Lines);

    /// <summary>Whether this is a C# block.</summary>
    public bool IsCSharp => Language is "csharp" or "cs" or "c#";

    /// <summary>Whether the directive holds <paramref name="word"/> (words are separated by spaces or commas).</summary>
    public bool Has(string word) => Words.Contains(word, StringComparer.Ordinal);

    /// <summary>The word after <paramref name="word"/> in the directive (<c>file Program.cs</c>), or null.</summary>
    public string? After(string word)
    {
        int at = Array.IndexOf(Words, word);
        return at >= 0 && at + 1 < Words.Length ? Words[at + 1] : null;
    }

    private string[] Words => Directive.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>Code written inside a <c>&lt;!-- snippet: context … --&gt;</c> comment: hidden from readers, seen by the compiler.</summary>
/// <param name="Header">The rest of the comment's first line after <c>context</c> (a base type: <c>: Room</c>), or empty.</param>
/// <param name="Line">The 1-based line of the code's first line.</param>
/// <param name="Lines">The code.</param>
internal sealed record HiddenCode(string Header, int Line, string[] Lines);

/// <summary>
/// A Markdown page as the documentation tests read it: its fenced code blocks, each with the snippet directive
/// before it, and the page-wide directives (hidden context code, the namespace of its messages).
/// </summary>
internal sealed partial class MarkdownPage
{
    private MarkdownPage(string path, string relativePath, IReadOnlyList<CodeBlock> blocks, IReadOnlyList<HiddenCode> context, string? messagesNamespace)
    {
        Path = path;
        RelativePath = relativePath;
        Blocks = blocks;
        Context = context;
        MessagesNamespace = messagesNamespace;
    }

    /// <summary>The page's full path.</summary>
    public string Path { get; }

    /// <summary>The page's path as reported in errors (relative to the repository, with forward slashes).</summary>
    public string RelativePath { get; }

    /// <summary>The fenced code blocks, in order.</summary>
    public IReadOnlyList<CodeBlock> Blocks { get; }

    /// <summary>The hidden context code, in order.</summary>
    public IReadOnlyList<HiddenCode> Context { get; }

    /// <summary>The namespace the page's definitions go into (<c>&lt;!-- snippet: namespace X --&gt;</c>), or null for the global namespace.</summary>
    public string? MessagesNamespace { get; }

    /// <summary>Reads the page at <paramref name="path"/>, reported in errors as <paramref name="relativePath"/>.</summary>
    public static MarkdownPage Read(string path, string relativePath)
    {
        string[] lines = File.ReadAllLines(path);
        var blocks = new List<CodeBlock>();
        var context = new List<HiddenCode>();
        string? messagesNamespace = null;
        string pendingDirective = string.Empty;
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                string fence = line.TrimStart();
                int indent = line.Length - fence.Length;
                string language = fence.TrimStart('`').Trim().Split(' ', 2)[0];
                int start = i + 1;
                int end = start;
                while (end < lines.Length && !lines[end].TrimStart().StartsWith("```", StringComparison.Ordinal))
                {
                    end++;
                }

                if (end >= lines.Length)
                {
                    throw new InvalidDataException($"{relativePath}({i + 1}): the code block is not closed.");
                }

                // A block indented under a list item: its lines carry the item's indentation.
                string[] code = [.. lines[start..end].Select(l => l.Length >= indent && l[..indent].Trim().Length == 0 ? l[indent..] : l.TrimStart())];
                blocks.Add(new CodeBlock(language, start + 1, code, pendingDirective));
                pendingDirective = string.Empty;
                i = end;
                continue;
            }

            Match directive = DirectivePattern().Match(line);
            if (directive.Success)
            {
                string words = directive.Groups["words"].Value.Trim();
                if (words.StartsWith("context", StringComparison.Ordinal))
                {
                    if (directive.Groups["end"].Success)
                    {
                        throw new InvalidDataException($"{relativePath}({i + 1}): a context comment holds code on the lines after 'context'.");
                    }

                    int start = i + 1;
                    int end = start;
                    while (end < lines.Length && lines[end].Trim() != "-->")
                    {
                        end++;
                    }

                    if (end >= lines.Length)
                    {
                        throw new InvalidDataException($"{relativePath}({i + 1}): the context comment is not closed by a line holding only -->.");
                    }

                    context.Add(new HiddenCode(words["context".Length..].Trim(), start + 1, lines[start..end]));
                    i = end;
                    continue;
                }

                if (!directive.Groups["end"].Success)
                {
                    throw new InvalidDataException($"{relativePath}({i + 1}): a snippet directive must end with --> on its line.");
                }

                if (words.StartsWith("namespace ", StringComparison.Ordinal))
                {
                    messagesNamespace = words["namespace ".Length..].Trim();
                    continue;
                }

                pendingDirective = words;
                continue;
            }

            if (line.Trim().Length > 0)
            {
                pendingDirective = string.Empty; // A directive belongs to the block right after it.
            }
        }

        return new MarkdownPage(path, relativePath, blocks, context, messagesNamespace);
    }

    [GeneratedRegex(@"^\s*<!--\s*snippet:\s*(?<words>.*?)\s*(?<end>-->)?\s*$")]
    private static partial Regex DirectivePattern();
}
