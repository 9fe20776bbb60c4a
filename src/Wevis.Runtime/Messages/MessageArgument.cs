namespace Wevis;

/// <summary>One argument of a message type.</summary>
/// <param name="Name">The argument's name as defined (<c>hours</c>).</param>
/// <param name="PropertyName">The C# property that holds it (<c>Hours</c>).</param>
/// <param name="Type">Its type.</param>
public sealed record MessageArgument(string Name, string PropertyName, ArgumentType Type)
{
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

    /// <inheritdoc/>
    public override string ToString() => Name + "=" + TypeKeyword;
}
