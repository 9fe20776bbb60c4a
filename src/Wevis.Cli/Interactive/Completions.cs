using Wevis.Cli.Definitions;

namespace Wevis.Cli.Interactive;

/// <summary>What tab completes in an interactive session: message names and commands first, then the message's argument names not yet given.</summary>
internal static class Completions
{
    public static readonly string[] Commands = [":help", ":messages", ":join", ":join-or-create", ":create", ":leave", ":quit"];

    /// <summary>The words that may stand at the end of <paramref name="before"/> (the line up to the cursor).</summary>
    public static IReadOnlyList<string> For(string before, LoadedDefinitions definitions)
    {
        List<string> tokens = [.. before.Split(' ', StringSplitOptions.RemoveEmptyEntries)];
        bool atNewWord = before.Length == 0 || before.EndsWith(' ');
        if (tokens.Count == 0 || (tokens.Count == 1 && !atNewWord))
        {
            return [.. definitions.Messages.Select(m => m.Name), .. Commands];
        }

        if (definitions.Find(tokens[0]) is not { } message)
        {
            return [];
        }

        HashSet<string> given = [.. tokens.Skip(1).Select(t => t.Split('=')[0])];
        return [.. message.Arguments.Where(a => !given.Contains(a.Name) || (!atNewWord && tokens[^1].StartsWith(a.Name, StringComparison.Ordinal) && !tokens[^1].Contains('=')))
            .Select(a => a.Name + "=")];
    }
}
