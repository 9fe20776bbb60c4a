using System.Text;

namespace Wevis.Cli.Interactive;

/// <summary>
/// Reads lines in a terminal with history (up and down), editing (left, right, home, end, backspace, delete) and
/// tab completion, and prints messages above the line being typed without breaking it. With input redirected it
/// reads plain lines. (Spectre's RadLine line editor is served only for older Spectre.Console releases, so the tool
/// has its own, kept small.)
/// </summary>
internal sealed class LineEditor(string prompt, Func<string, IReadOnlyList<string>> complete, TextWriter output)
{
    private readonly List<string> _history = [];
    private readonly Lock _lock = new();
    private readonly StringBuilder _line = new();
    private int _cursor;
    private bool _editing;

    /// <summary>Whether keys are read one by one (a terminal), rather than lines (redirected input).</summary>
    public static bool IsInteractive => !Console.IsInputRedirected && !Console.IsOutputRedirected;

    /// <summary>The lines entered so far, oldest first.</summary>
    public IReadOnlyList<string> History => _history;

    /// <summary>Reads a line; null at the end of input (Ctrl+D on an empty line, Ctrl+C, or the end of redirected input).</summary>
    public string? ReadLine()
    {
        if (!IsInteractive)
        {
            return Console.In.ReadLine();
        }

        lock (_lock)
        {
            _line.Clear();
            _cursor = 0;
            _editing = true;
            Redraw();
        }

        int historyIndex = _history.Count;
        while (true)
        {
            ConsoleKeyInfo key = Console.ReadKey(intercept: true);
            lock (_lock)
            {
                switch (key.Key)
                {
                    case ConsoleKey.Enter:
                        _editing = false;
                        output.WriteLine();
                        string line = _line.ToString();
                        if (line.Trim().Length > 0 && (_history.Count == 0 || _history[^1] != line))
                        {
                            _history.Add(line);
                        }

                        return line;
                    case ConsoleKey.C or ConsoleKey.D when key.Modifiers.HasFlag(ConsoleModifiers.Control) && (key.Key == ConsoleKey.C || _line.Length == 0):
                        _editing = false;
                        output.WriteLine();
                        return null;
                    case ConsoleKey.Backspace when _cursor > 0:
                        _line.Remove(--_cursor, 1);
                        break;
                    case ConsoleKey.Delete when _cursor < _line.Length:
                        _line.Remove(_cursor, 1);
                        break;
                    case ConsoleKey.LeftArrow when _cursor > 0:
                        _cursor--;
                        break;
                    case ConsoleKey.RightArrow when _cursor < _line.Length:
                        _cursor++;
                        break;
                    case ConsoleKey.Home:
                        _cursor = 0;
                        break;
                    case ConsoleKey.End:
                        _cursor = _line.Length;
                        break;
                    case ConsoleKey.UpArrow when historyIndex > 0:
                        Replace(_history[--historyIndex]);
                        break;
                    case ConsoleKey.DownArrow when historyIndex < _history.Count:
                        historyIndex++;
                        Replace(historyIndex == _history.Count ? string.Empty : _history[historyIndex]);
                        break;
                    case ConsoleKey.Tab:
                        Complete();
                        break;
                    default:
                        if (!char.IsControl(key.KeyChar))
                        {
                            _line.Insert(_cursor++, key.KeyChar);
                        }

                        break;
                }

                Redraw();
            }
        }
    }

    /// <summary>Prints <paramref name="text"/> on its own line above the line being typed, which is then drawn again.</summary>
    public void WriteAbove(string text)
    {
        lock (_lock)
        {
            if (_editing)
            {
                output.Write("\r\u001b[2K");
                output.WriteLine(text);
                Redraw();
            }
            else
            {
                output.WriteLine(text);
            }
        }
    }

    /// <summary>Completes the word before the cursor: the one candidate, or the candidates' common start (listing them).</summary>
    private void Complete()
    {
        string before = _line.ToString(0, _cursor);
        int start = before.LastIndexOf(' ') + 1;
        string word = before[start..];
        IReadOnlyList<string> candidates = [.. complete(before).Where(c => c.StartsWith(word, StringComparison.Ordinal))];
        if (candidates.Count == 0)
        {
            return;
        }

        string common = candidates.Count == 1 ? candidates[0] + (candidates[0].EndsWith('=') ? string.Empty : " ") : CommonStart(candidates);
        if (common.Length > word.Length)
        {
            _line.Remove(start, word.Length).Insert(start, common);
            _cursor = start + common.Length;
        }
        else if (candidates.Count > 1)
        {
            output.Write("\r\u001b[2K");
            output.WriteLine(string.Join("  ", candidates));
        }
    }

    private static string CommonStart(IReadOnlyList<string> words)
    {
        string first = words[0];
        int length = first.Length;
        foreach (string word in words)
        {
            length = Math.Min(length, word.Length);
            for (int i = 0; i < length; i++)
            {
                if (word[i] != first[i])
                {
                    length = i;
                    break;
                }
            }
        }

        return first[..length];
    }

    private void Replace(string text)
    {
        _line.Clear().Append(text);
        _cursor = _line.Length;
    }

    private void Redraw()
    {
        output.Write("\r\u001b[2K" + prompt + _line);
        int back = _line.Length - _cursor;
        if (back > 0)
        {
            output.Write($"\u001b[{back}D");
        }

        output.Flush();
    }
}
