using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Wevis.Cli.Definitions;

/// <summary>
/// Messages as text, both ways: <c>ItIs hours=3 minutes=4</c>, <c>Say text="hello there"</c>,
/// <c>SomeFloats singles=[0.5,1] doubles=[]</c>, <c>Blob data=0x00ff</c> (or <c>data=base64:AP8=</c>); and as one
/// JSON object per line for scripts: <c>{"message":"ItIs","arguments":{"hours":3,"minutes":4}}</c>.
/// </summary>
internal static class MessageText
{
    /// <summary>
    /// Reads a message typed as text, to be sent by a client. Errors name the message and the argument, in the tool's
    /// words: what the sending client would refuse (a message only the server sends, an argument over its bound) is
    /// refused here, before anything connects.
    /// </summary>
    /// <exception cref="FormatException">The text is not a message of <paramref name="definitions"/> that a client can send.</exception>
    public static DynamicMessage Parse(string text, LoadedDefinitions definitions)
    {
        List<string> tokens = Tokenize(text);
        if (tokens.Count == 0)
        {
            throw new FormatException("Nothing to send: write a message, such as " + Example(definitions.Messages.FirstOrDefault()) + ".");
        }

        string name = tokens[0];
        DynamicMessageDescriptor descriptor = definitions.Find(name)
            ?? throw new FormatException($"'{name}' is not a message of {DescribeFiles(definitions)}; the messages are: {string.Join(", ", definitions.Messages.Select(m => m.Name))}.");
        if ((descriptor.Direction & MessageDirection.ClientToServer) == 0)
        {
            throw new FormatException($"{name} is sent only by the server ({descriptor.Definition}); a client cannot send it.");
        }

        object?[] values = new object?[descriptor.Arguments.Count];
        for (int t = 1; t < tokens.Count; t++)
        {
            string token = tokens[t];
            int equals = token.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new FormatException($"{name}: '{token}' is not an argument; write name=value ({Example(descriptor)}).");
            }

            string argumentName = token[..equals];
            int index = descriptor.IndexOf(argumentName);
            if (index < 0)
            {
                throw new FormatException($"{name} has no argument '{argumentName}'; {Arguments(descriptor)}.");
            }

            if (values[index] is not null)
            {
                throw new FormatException($"{name}: {argumentName} is given twice.");
            }

            object value = ParseValue(descriptor, index, Unquote(token[(equals + 1)..]));
            try
            {
                descriptor.CheckBound(index, value);
            }
            catch (ArgumentTooLargeException tooLarge)
            {
                MessageArgument argument = descriptor.Arguments[index];
                string unit = argument.Type == ArgumentType.String ? "bytes of UTF-8" : argument.BoundUnit;
                throw new FormatException($"{name}: {argument.Name} holds {tooLarge.Size} {unit}, over its bound of {tooLarge.Bound} ({argument}).", tooLarge);
            }

            values[index] = value;
        }

        string[] missing = [.. descriptor.Arguments.Where((_, i) => values[i] is null).Select(a => a.ToString())];
        if (missing.Length > 0)
        {
            throw new FormatException($"{name} needs {string.Join(" ", missing)} ({Example(descriptor)}).");
        }

        return new DynamicMessage(descriptor, values!);
    }

    /// <summary>The message as a line <see cref="Parse"/> reads back.</summary>
    public static string Format(DynamicMessage message)
    {
        var text = new StringBuilder(message.Name);
        for (int i = 0; i < message.Values.Count; i++)
        {
            text.Append(' ').Append(message.Descriptor.Arguments[i].Name).Append('=');
            AppendValue(text, message.Values[i]);
        }

        return text.ToString();
    }

    /// <summary>Any message (a protocol message, say) as text: a run-time message's own text, or its record's.</summary>
    public static string Format(IMessage message) => message is DynamicMessage dynamic ? Format(dynamic) : message.ToString() ?? message.Descriptor.Name;

    /// <summary>The message as one line of JSON: <c>{"message":"ItIs","arguments":{"hours":3,"minutes":4}}</c>.</summary>
    public static string ToJson(DynamicMessage message)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("message", message.Name);
            json.WriteStartObject("arguments");
            for (int i = 0; i < message.Values.Count; i++)
            {
                json.WritePropertyName(message.Descriptor.Arguments[i].Name);
                WriteJson(json, message.Values[i]);
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>An example line for <paramref name="descriptor"/>: <c>ItIs hours=1 minutes=1</c>.</summary>
    public static string Example(DynamicMessageDescriptor? descriptor) =>
        descriptor is null ? "a message name" : descriptor.Name + string.Concat(descriptor.Arguments.Select(a => " " + a.Name + "=" + ExampleValue(a.Type)));

    /// <summary>Splits a line at spaces, keeping double-quoted runs (with <c>\"</c> and <c>\\</c>) together.</summary>
    public static List<string> Tokenize(string text)
    {
        var tokens = new List<string>();
        var current = new StringBuilder();
        bool quoted = false;
        bool any = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (quoted && c == '\\' && i + 1 < text.Length && text[i + 1] is '"' or '\\')
            {
                current.Append(c).Append(text[++i]);
            }
            else if (c == '"')
            {
                quoted = !quoted;
                current.Append(c);
                any = true;
            }
            else if (char.IsWhiteSpace(c) && !quoted)
            {
                if (any)
                {
                    tokens.Add(current.ToString());
                    current.Clear();
                    any = false;
                }
            }
            else
            {
                current.Append(c);
                any = true;
            }
        }

        if (quoted)
        {
            throw new FormatException("A quoted value is not closed: add the closing \".");
        }

        if (any)
        {
            tokens.Add(current.ToString());
        }

        return tokens;
    }

    private static string Unquote(string value)
    {
        if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
        {
            return value[1..^1].Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);
        }

        return value;
    }

    private static object ParseValue(DynamicMessageDescriptor descriptor, int index, string value)
    {
        MessageArgument argument = descriptor.Arguments[index];
        CultureInfo invariant = CultureInfo.InvariantCulture;
        object? parsed = argument.Type switch
        {
            ArgumentType.Int32 => int.TryParse(value, NumberStyles.Integer, invariant, out int i) ? i : null,
            ArgumentType.Int64 => long.TryParse(value, NumberStyles.Integer, invariant, out long l) ? l : null,
            ArgumentType.Double => double.TryParse(value, NumberStyles.Float, invariant, out double d) ? d : null,
            ArgumentType.Boolean => value switch { "true" => true, "false" => false, _ => null },
            ArgumentType.String => value,
            ArgumentType.Bytes => ParseBytes(value),
            ArgumentType.SingleArray => ParseArray(value, s => float.TryParse(s, NumberStyles.Float, invariant, out float f) ? f : (float?)null),
            _ => ParseArray(value, s => double.TryParse(s, NumberStyles.Float, invariant, out double d) ? d : (double?)null),
        };
        return parsed ?? throw new FormatException($"{descriptor.Name}: {argument.Name}={value} is not {Expected(argument.Type)}.");
    }

    private static byte[]? ParseBytes(string value)
    {
        try
        {
            if (value.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            {
                return Convert.FromHexString(value.AsSpan(2));
            }

            if (value.StartsWith("base64:", StringComparison.Ordinal))
            {
                return Convert.FromBase64String(value["base64:".Length..]);
            }
        }
        catch (FormatException)
        {
        }

        return null;
    }

    private static T[]? ParseArray<T>(string value, Func<string, T?> parse)
        where T : struct
    {
        if (value.Length < 2 || value[0] != '[' || value[^1] != ']')
        {
            return null;
        }

        string inside = value[1..^1].Trim();
        if (inside.Length == 0)
        {
            return [];
        }

        string[] parts = inside.Split(',', StringSplitOptions.TrimEntries);
        var values = new T[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (parse(parts[i]) is not { } parsed)
            {
                return null;
            }

            values[i] = parsed;
        }

        return values;
    }

    private static string Expected(ArgumentType type) => type switch
    {
        ArgumentType.Int32 => "an int (a whole number from -2147483648 to 2147483647)",
        ArgumentType.Int64 => "a long (a whole number of 64 bits)",
        ArgumentType.Double => "a float (a number such as 1.5 or -2e3)",
        ArgumentType.Boolean => "a bool (true or false)",
        ArgumentType.Bytes => "bytes (hex as 0x00ff, or base64:AP8=)",
        ArgumentType.SingleArray => "a ?f (a list of numbers such as [0.5,1,2])",
        _ => "a ?d (a list of numbers such as [0.5,1,2])",
    };

    private static string ExampleValue(ArgumentType type) => type switch
    {
        ArgumentType.Int32 or ArgumentType.Int64 => "1",
        ArgumentType.Double => "1.5",
        ArgumentType.Boolean => "true",
        ArgumentType.String => "\"text\"",
        ArgumentType.Bytes => "0x00ff",
        _ => "[0.5,1]",
    };

    private static string Arguments(DynamicMessageDescriptor descriptor) =>
        descriptor.Arguments.Count == 0 ? "it takes none" : "its arguments are " + string.Join(" ", descriptor.Arguments.Select(a => a.ToString()));

    private static string DescribeFiles(LoadedDefinitions definitions) =>
        string.Join(", ", definitions.Paths.Select(Path.GetFileName));

    private static void AppendValue(StringBuilder text, object value)
    {
        CultureInfo invariant = CultureInfo.InvariantCulture;
        switch (value)
        {
            case string s:
                text.Append('"').Append(s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)).Append('"');
                break;
            case bool b:
                text.Append(b ? "true" : "false");
                break;
            case double d:
                text.Append(d.ToString("R", invariant));
                break;
            case byte[] bytes:
                text.Append("0x").Append(Convert.ToHexStringLower(bytes));
                break;
            case float[] singles:
                text.Append('[').AppendJoin(',', singles.Select(f => f.ToString("R", invariant))).Append(']');
                break;
            case double[] doubles:
                text.Append('[').AppendJoin(',', doubles.Select(f => f.ToString("R", invariant))).Append(']');
                break;
            case IFormattable formattable:
                text.Append(formattable.ToString(null, invariant));
                break;
            default:
                text.Append(value);
                break;
        }
    }

    private static void WriteJson(Utf8JsonWriter json, object value)
    {
        switch (value)
        {
            case int i:
                json.WriteNumberValue(i);
                break;
            case long l:
                json.WriteNumberValue(l);
                break;
            case double d:
                WriteNumber(json, d);
                break;
            case bool b:
                json.WriteBooleanValue(b);
                break;
            case string s:
                json.WriteStringValue(s);
                break;
            case byte[] bytes:
                json.WriteBase64StringValue(bytes);
                break;
            case float[] singles:
                json.WriteStartArray();
                foreach (float f in singles)
                {
                    if (float.IsFinite(f))
                    {
                        json.WriteNumberValue(f);
                    }
                    else
                    {
                        json.WriteStringValue(f.ToString(CultureInfo.InvariantCulture));
                    }
                }

                json.WriteEndArray();
                break;
            case double[] doubles:
                json.WriteStartArray();
                foreach (double d in doubles)
                {
                    WriteNumber(json, d);
                }

                json.WriteEndArray();
                break;
        }
    }

    /// <summary>JSON has no NaN or infinities: those are written as strings.</summary>
    private static void WriteNumber(Utf8JsonWriter json, double value)
    {
        if (double.IsFinite(value))
        {
            json.WriteNumberValue(value);
        }
        else
        {
            json.WriteStringValue(value.ToString(CultureInfo.InvariantCulture));
        }
    }
}
