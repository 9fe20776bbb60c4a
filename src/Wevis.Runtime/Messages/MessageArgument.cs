namespace Wevis;

/// <summary>One argument of a message type.</summary>
/// <param name="Name">The argument's name as defined (<c>hours</c>).</param>
/// <param name="PropertyName">The C# property that holds it (<c>Hours</c>).</param>
/// <param name="Type">Its type.</param>
/// <param name="Bound">
/// The most it may hold, or null for no bound: for <c>str</c> the bytes of its UTF-8 encoding, for <c>bytes</c> its
/// bytes, for <c>?f</c> and <c>?d</c> its values (<c>name=str(32)</c>, <c>heights=?d(4096)</c>). Checked when the message
/// is sent and when it is received.
/// </param>
public sealed record MessageArgument(string Name, string PropertyName, ArgumentType Type, int? Bound = null)
{
    /// <summary>
    /// The most it may hold, or null for no bound: for <c>str</c> the bytes of its UTF-8 encoding, for <c>bytes</c> its
    /// bytes, for <c>?f</c> and <c>?d</c> its values.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The bound is not positive, or the type has a fixed size.</exception>
    public int? Bound { get; init; } = CheckBound(Bound, Type);

    /// <summary>The type as a definitions file names it: <c>int</c>, <c>long</c>, <c>float</c>, <c>bool</c>, <c>str</c>, <c>bytes</c>, <c>?f</c> or <c>?d</c>.</summary>
    public string TypeKeyword => Type switch
    {
        ArgumentType.Int32 => "int",
        ArgumentType.Int64 => "long",
        ArgumentType.Double => "float",
        ArgumentType.Boolean => "bool",
        ArgumentType.String => "str",
        ArgumentType.Bytes => "bytes",
        ArgumentType.SingleArray => "?f",
        ArgumentType.DoubleArray => "?d",
        _ => throw new ArgumentOutOfRangeException(nameof(Type), Type, null),
    };

    /// <summary>The type with its bound, as a definitions file writes it: <c>str(32)</c>, or <c>str</c> without a bound.</summary>
    public string TypeText => Bound is { } bound ? TypeKeyword + "(" + bound.ToString(System.Globalization.CultureInfo.InvariantCulture) + ")" : TypeKeyword;

    /// <summary>What the bound counts: <c>bytes</c> for <c>str</c> and <c>bytes</c>, <c>values</c> for <c>?f</c> and <c>?d</c>.</summary>
    public string BoundUnit => Type is ArgumentType.SingleArray or ArgumentType.DoubleArray ? "values" : "bytes";

    /// <inheritdoc/>
    public override string ToString() => Name + "=" + TypeText;

    private static int? CheckBound(int? bound, ArgumentType type)
    {
        if (bound is null)
        {
            return null;
        }

        if (bound <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Bound), bound, "A bound must be at least 1.");
        }

        if (type is not (ArgumentType.String or ArgumentType.Bytes or ArgumentType.SingleArray or ArgumentType.DoubleArray))
        {
            throw new ArgumentOutOfRangeException(nameof(Bound), bound, $"A {type} argument has a fixed size and takes no bound.");
        }

        return bound;
    }
}
