using System.Globalization;
using Wevis.Cli.Definitions;

namespace Wevis.Cli.Load;

/// <summary>
/// What each client of <c>wevis load</c> does, once per iteration: a small script, one step per line.
/// <code>
/// # a comment
/// WhatTimeIsIt          send this message (as text, as wevis send takes it)
/// expect ItIs           wait for an ItIs: the time since the last send is one latency sample
/// sleep 50ms            wait (ms or s)
/// </code>
/// </summary>
internal sealed class LoadScript
{
    private LoadScript(IReadOnlyList<LoadStep> steps) => Steps = steps;

    public IReadOnlyList<LoadStep> Steps { get; }

    /// <summary>The names of the latency samples, in script order: <c>WhatTimeIsIt → ItIs</c>.</summary>
    public IReadOnlyList<string> Measured => [.. Steps.OfType<ExpectStep>().Select(s => s.Label)];

    /// <exception cref="FormatException">
    /// A line is not a step (a message a client cannot send, as <see cref="MessageText.Parse"/> says, or an expect of one
    /// the server never sends); the message names the line.
    /// </exception>
    public static LoadScript Parse(string text, LoadedDefinitions definitions)
    {
        var steps = new List<LoadStep>();
        string? lastSent = null;
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            try
            {
                if (line.StartsWith("expect ", StringComparison.Ordinal))
                {
                    string name = line["expect ".Length..].Trim();
                    DynamicMessageDescriptor expected = definitions.Find(name)
                        ?? throw new FormatException($"{name} is not a message of the definitions.");
                    if ((expected.Direction & MessageDirection.ServerToClient) == 0)
                    {
                        throw new FormatException($"{name} is sent only by clients ({expected.Definition}); no {name} ever arrives.");
                    }

                    if (lastSent is null)
                    {
                        throw new FormatException("an expect must follow a message sent, whose answer it times.");
                    }

                    steps.Add(new ExpectStep(name, $"{lastSent} → {name}"));
                }
                else if (line.StartsWith("sleep ", StringComparison.Ordinal))
                {
                    steps.Add(new SleepStep(ParseDuration(line["sleep ".Length..].Trim())));
                }
                else
                {
                    DynamicMessage message = MessageText.Parse(line, definitions);
                    steps.Add(new SendStep(message));
                    lastSent = message.Name;
                }
            }
            catch (FormatException ex)
            {
                throw new FormatException($"Script line {i + 1} ({line}): {ex.Message}", ex);
            }
        }

        if (!steps.OfType<ExpectStep>().Any())
        {
            throw new FormatException("The script measures nothing: add 'expect TYPE' after a message sent.");
        }

        return new LoadScript(steps);
    }

    private static TimeSpan ParseDuration(string text)
    {
        (string number, double scale) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], 0.001)
            : text.EndsWith('s') ? (text[..^1], 1.0)
            : throw new FormatException($"'{text}' is not a duration: write 50ms or 2s.");
        return double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && value >= 0
            ? TimeSpan.FromSeconds(value * scale)
            : throw new FormatException($"'{text}' is not a duration: write 50ms or 2s.");
    }
}

/// <summary>One step of a load script.</summary>
internal abstract record LoadStep;

/// <summary>Send a message.</summary>
internal sealed record SendStep(DynamicMessage Message) : LoadStep;

/// <summary>Wait for a message of a type; the time since the last send is a sample named <paramref name="Label"/>.</summary>
internal sealed record ExpectStep(string Name, string Label) : LoadStep;

/// <summary>Wait a while.</summary>
internal sealed record SleepStep(TimeSpan Duration) : LoadStep;
