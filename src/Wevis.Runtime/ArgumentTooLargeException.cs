namespace Wevis;

/// <summary>
/// A message was not sent because an argument holds more than its bound allows (<c>name=str(32)</c> given a longer
/// name, say). Thrown by the sending method, before anything is written, so the connection carries on.
/// </summary>
public sealed class ArgumentTooLargeException : ArgumentException
{
    /// <summary>Creates the exception for one argument of one message.</summary>
    /// <param name="messageName">The message's name (<c>Chat</c>).</param>
    /// <param name="argumentName">The argument's name as defined (<c>text</c>).</param>
    /// <param name="propertyName">The C# property that holds it (<c>Text</c>).</param>
    /// <param name="size">What it holds, in <paramref name="unit"/>.</param>
    /// <param name="bound">Its bound, in <paramref name="unit"/>.</param>
    /// <param name="unit"><c>bytes</c> (of UTF-8, for a string) or <c>values</c> (for a float array).</param>
    /// <param name="definition">The argument as defined (<c>text=str(32)</c>).</param>
    public ArgumentTooLargeException(string messageName, string argumentName, string propertyName, long size, int bound, string unit, string definition)
        : base(
            $"The {messageName} message's argument '{argumentName}' holds {size} {unit}, over its bound of {bound} ({definition}); the message was not sent.",
            propertyName)
    {
        MessageName = messageName;
        ArgumentName = argumentName;
        Size = size;
        Bound = bound;
    }

    /// <summary>The message's name.</summary>
    public string MessageName { get; }

    /// <summary>The argument's name as defined.</summary>
    public string ArgumentName { get; }

    /// <summary>What the argument holds: bytes for <c>str</c> (UTF-8) and <c>bytes</c>, values for <c>?f</c> and <c>?d</c>.</summary>
    public long Size { get; }

    /// <summary>The argument's bound, in the same unit as <see cref="Size"/>.</summary>
    public int Bound { get; }
}
