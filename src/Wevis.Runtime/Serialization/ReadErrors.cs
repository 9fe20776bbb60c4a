using System.Globalization;
using MessagePack;

namespace Wevis.Serialization;

/// <summary>
/// The reasons a body is refused, in one place and in Wevis's words: each names the message (once its wire id is
/// read), the argument and what is wrong with it, never a bare .NET exception text. A server sends them to the
/// peer in <c>_Closing</c> and logs them, so they must make sense to whoever wrote the peer, in any language.
/// </summary>
internal static class ReadErrors
{
    // The body's header: the array of the wire id and the arguments, and the wire id.

    public static ProtocolException NotAnArray() =>
        new("A message body must be a MessagePack array of the wire id and the arguments.");

    public static ProtocolException EmptyArray() =>
        new("A message body must start with its wire id, but the array is empty.");

    public static ProtocolException HeaderCutOff() =>
        new("A message body must be a MessagePack array of the wire id and the arguments, but the data ends inside the array's header.");

    public static ProtocolException HeaderClaimsTooMany(uint count, int remaining) =>
        new($"A message body claims {Count(count)} items (its wire id and arguments), but only {Bytes(remaining)} {(remaining == 1 ? "follows" : "follow")} the array's header.");

    public static ProtocolException WireIdNotAnInteger(string found) =>
        new($"A message body must start with an integer wire id, but found {found}.");

    public static ProtocolException WireIdMissing() =>
        new("A message body ends before its wire id.");

    public static ProtocolException WireIdCutOff() =>
        new("A message body's wire id is cut off: the data ends inside it.");

    public static ProtocolException WireIdOutOfRange(string value) =>
        new($"A message body's wire id must fit in 32 bits, but the data holds {value}.");

    // One argument of a known message.

    /// <summary>The argument is of another MessagePack type than its definition says.</summary>
    public static ProtocolException Mismatch(MessageDescriptor message, int argument, string found) =>
        Argument(message, argument, $"must be {Keyword(message, argument)}, but the data holds {found}");

    /// <summary>The data ends where the argument should start.</summary>
    public static ProtocolException Missing(MessageDescriptor message, int argument) =>
        Argument(message, argument, $"({Keyword(message, argument)}) is missing: the data ends before it");

    /// <summary>The data ends inside the argument.</summary>
    public static ProtocolException CutOff(MessageDescriptor message, int argument) =>
        Argument(message, argument, $"({Keyword(message, argument)}) is cut off: the data ends inside it");

    /// <summary>An integer argument's value is outside its type's range.</summary>
    public static ProtocolException OutOfRange(MessageDescriptor message, int argument, string value) =>
        Argument(message, argument, $"must be {Keyword(message, argument)}, but the data holds {value}, outside the range of {Keyword(message, argument)}");

    /// <summary>
    /// A string, binary data or array claims more than the data holds (<paramref name="claimed"/>: <see cref="StringOf"/>,
    /// <see cref="BinaryOf"/> or <see cref="ArrayOf"/>; an array item takes at least one byte).
    /// </summary>
    public static ProtocolException ClaimsTooMuch(MessageDescriptor message, int argument, string claimed, int remaining) =>
        Argument(message, argument, $"({Keyword(message, argument)}) claims {claimed}, but only {Bytes(remaining)} {(remaining == 1 ? "remains" : "remain")}");

    public static string StringOf(uint length) => $"a string of {Count(length)} bytes";

    public static string BinaryOf(uint length) => $"binary data of {Count(length)} bytes";

    public static string ArrayOf(uint count) => $"an array of {Count(count)} items";

    /// <summary>Anything else wrong with one argument: <paramref name="problem"/> follows the argument's name.</summary>
    public static ProtocolException Argument(MessageDescriptor message, int argument, string problem) =>
        new($"Malformed {message.Name} message: argument '{message.Arguments[argument].Name}' {problem}.", message.Name);

    /// <summary>How errors name a MessagePack type: <c>a string</c>, <c>nil</c>, …</summary>
    public static string Describe(MessagePackType type) => type switch
    {
        MessagePackType.Integer => "an integer",
        MessagePackType.Nil => "nil",
        MessagePackType.Boolean => "a boolean",
        MessagePackType.Float => "a float",
        MessagePackType.String => "a string",
        MessagePackType.Binary => "binary data",
        MessagePackType.Array => "an array",
        MessagePackType.Map => "a map",
        MessagePackType.Extension => "an extension value",
        _ => "an unknown MessagePack type",
    };

    private static string Keyword(MessageDescriptor message, int argument) => message.Arguments[argument].TypeKeyword;

    private static string Count(uint value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Bytes(int count) => count == 1 ? "1 byte" : count.ToString(CultureInfo.InvariantCulture) + " bytes";
}
