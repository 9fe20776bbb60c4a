using System.Globalization;

namespace Wevis.Samples;

/// <summary>
/// The samples' command lines: <c>--name value</c> options and bare <c>--flag</c>s, each known in advance, so a
/// typo is an error rather than silently ignored. Deliberately small; a real program might use System.CommandLine.
/// </summary>
internal sealed class CommandLine
{
    private readonly Dictionary<string, string> _values;
    private readonly HashSet<string> _flags;

    private CommandLine(Dictionary<string, string> values, HashSet<string> flags)
    {
        _values = values;
        _flags = flags;
    }

    /// <summary>Parses <paramref name="args"/>, which may hold the <paramref name="options"/> (each followed by a value) and the <paramref name="flags"/>.</summary>
    /// <exception cref="CommandLineException">An argument is unknown, repeated, or an option has no value.</exception>
    public static CommandLine Parse(IReadOnlyList<string> args, IReadOnlyCollection<string> options, IReadOnlyCollection<string>? flags = null)
    {
        flags ??= [];
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var seenFlags = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (flags.Contains(arg))
            {
                if (!seenFlags.Add(arg))
                {
                    throw new CommandLineException($"{arg} is given twice.");
                }
            }
            else if (options.Contains(arg))
            {
                if (i + 1 >= args.Count)
                {
                    throw new CommandLineException($"{arg} needs a value.");
                }

                if (!values.TryAdd(arg, args[++i]))
                {
                    throw new CommandLineException($"{arg} is given twice.");
                }
            }
            else
            {
                throw new CommandLineException($"Unknown argument '{arg}'.");
            }
        }

        return new CommandLine(values, seenFlags);
    }

    /// <summary>The value of <paramref name="option"/>, or <paramref name="defaultValue"/> if it was not given.</summary>
    public string Get(string option, string defaultValue) => _values.GetValueOrDefault(option, defaultValue);

    /// <summary>The value of <paramref name="option"/> as a whole number from <paramref name="min"/> to <paramref name="max"/>.</summary>
    /// <exception cref="CommandLineException">The value is not such a number.</exception>
    public int GetInt(string option, int defaultValue, int min = int.MinValue, int max = int.MaxValue)
    {
        if (!_values.TryGetValue(option, out string? text))
        {
            return defaultValue;
        }

        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < min || value > max)
        {
            throw new CommandLineException($"{option} must be a whole number from {min} to {max}, not '{text}'.");
        }

        return value;
    }

    /// <summary>The value of <paramref name="option"/> as a positive number of seconds (fractions allowed: 0.5).</summary>
    /// <exception cref="CommandLineException">The value is not such a number.</exception>
    public TimeSpan GetSeconds(string option, TimeSpan defaultValue)
    {
        if (!_values.TryGetValue(option, out string? text))
        {
            return defaultValue;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds)
            || !double.IsFinite(seconds) || seconds <= 0 || seconds > TimeSpan.MaxValue.TotalSeconds / 2)
        {
            throw new CommandLineException($"{option} must be a positive number of seconds, not '{text}'.");
        }

        return TimeSpan.FromSeconds(seconds);
    }

    /// <summary>Whether <paramref name="flag"/> was given.</summary>
    public bool Has(string flag) => _flags.Contains(flag);
}

/// <summary>A command line the program cannot run with; its message says what is wrong.</summary>
internal sealed class CommandLineException(string message) : Exception(message);
