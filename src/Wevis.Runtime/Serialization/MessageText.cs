using System.ComponentModel;
using System.Globalization;
using System.Text;

namespace Wevis.Serialization;

/// <summary>
/// Value equality and readable text for message arguments. Generated records call these so that arrays
/// compare by content and print briefly; application code does not need them.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class MessageText
{
    /// <summary>How many array elements <c>ToString</c> shows before it summarises the rest.</summary>
    public const int MaxElementsShown = 8;

    /// <summary>Whether two arrays hold equal elements (NaN equals NaN, as for <see cref="double.Equals(double)"/>).</summary>
    public static bool ArrayEquals<T>(T[]? left, T[]? right)
        where T : IEquatable<T>
    {
        if (ReferenceEquals(left, right))
        {
            return true;
        }

        return left is not null && right is not null && left.AsSpan().SequenceEqual(right);
    }

    /// <summary>Adds an array's length and elements to a hash, consistent with <see cref="ArrayEquals{T}"/>.</summary>
    public static void AddArray<T>(ref HashCode hash, T[]? values)
    {
        if (values is null)
        {
            hash.Add(0);
            return;
        }

        hash.Add(values.Length);
        foreach (T value in values)
        {
            hash.Add(value);
        }
    }

    /// <summary>Appends an integer.</summary>
    public static void Append(StringBuilder builder, int value) => builder.Append(value.ToString(CultureInfo.InvariantCulture));

    /// <summary>Appends a long integer.</summary>
    public static void Append(StringBuilder builder, long value) => builder.Append(value.ToString(CultureInfo.InvariantCulture));

    /// <summary>Appends a number in the invariant culture, round-trippable.</summary>
    public static void Append(StringBuilder builder, double value) => builder.Append(value.ToString("R", CultureInfo.InvariantCulture));

    /// <summary>Appends <c>true</c> or <c>false</c>.</summary>
    public static void Append(StringBuilder builder, bool value) => builder.Append(value ? "true" : "false");

    /// <summary>Appends a string in double quotes.</summary>
    public static void Append(StringBuilder builder, string? value)
    {
        if (value is null)
        {
            builder.Append("null");
            return;
        }

        builder.Append('"').Append(value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)).Append('"');
    }

    /// <summary>Appends bytes as hex: <c>[3 bytes: 01 02 03]</c>.</summary>
    public static void Append(StringBuilder builder, byte[]? value)
    {
        if (value is null)
        {
            builder.Append("null");
            return;
        }

        builder.Append('[').Append(value.Length.ToString(CultureInfo.InvariantCulture)).Append(value.Length == 1 ? " byte" : " bytes");
        if (value.Length > 0)
        {
            builder.Append(':');
            for (int i = 0; i < Math.Min(value.Length, MaxElementsShown * 2); i++)
            {
                builder.Append(' ').Append(value[i].ToString("x2", CultureInfo.InvariantCulture));
            }

            if (value.Length > MaxElementsShown * 2)
            {
                builder.Append(" …");
            }
        }

        builder.Append(']');
    }

    /// <summary>Appends floats: <c>[0, 0.1, 0.2]</c>, or the first few and a count when there are many.</summary>
    public static void Append(StringBuilder builder, float[]? value) => AppendNumbers(builder, value, static v => v.ToString("R", CultureInfo.InvariantCulture));

    /// <summary>Appends doubles: <c>[0, 0.1, 0.2]</c>, or the first few and a count when there are many.</summary>
    public static void Append(StringBuilder builder, double[]? value) => AppendNumbers(builder, value, static v => v.ToString("R", CultureInfo.InvariantCulture));

    private static void AppendNumbers<T>(StringBuilder builder, T[]? values, Func<T, string> format)
    {
        if (values is null)
        {
            builder.Append("null");
            return;
        }

        builder.Append('[');
        int shown = Math.Min(values.Length, MaxElementsShown);
        for (int i = 0; i < shown; i++)
        {
            builder.Append(i == 0 ? string.Empty : ", ").Append(format(values[i]));
        }

        if (values.Length > shown)
        {
            builder.Append(", … (").Append(values.Length.ToString(CultureInfo.InvariantCulture)).Append(" values)");
        }

        builder.Append(']');
    }
}
