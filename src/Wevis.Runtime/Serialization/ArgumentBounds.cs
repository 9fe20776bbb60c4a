using System.Buffers;
using System.Buffers.Binary;
using System.ComponentModel;
using System.Text;
using MessagePack;

namespace Wevis.Serialization;

/// <summary>
/// Checks bounded arguments (<c>name=str(32)</c>, <c>heights=?d(4096)</c>): before a message is written, and, when one
/// is read, from the argument's MessagePack header, before its contents are decoded or anything is allocated.
/// Generated formatters call these for bounded arguments only; application code does not need them.
/// </summary>
/// <remarks>
/// A <c>str</c> bound counts the bytes of its UTF-8 encoding (what crosses the wire, and what a receiver can check
/// without decoding); a <c>bytes</c> bound counts bytes; a <c>?f</c> or <c>?d</c> bound counts values.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class ArgumentBounds
{
    /// <summary>Throws unless the <c>str</c> argument <paramref name="value"/> is within its bound. A null value is left to the writer.</summary>
    /// <exception cref="ArgumentTooLargeException">Its UTF-8 encoding is longer than <paramref name="bound"/> bytes.</exception>
    public static void CheckString(string? value, int bound, MessageDescriptor message, int argument)
    {
        // A char takes 1 to 3 bytes of UTF-8 (a surrogate pair 4 for 2 chars): short strings need no count.
        if (value is null || (long)value.Length * 3 <= bound)
        {
            return;
        }

        int size = Encoding.UTF8.GetByteCount(value);
        if (size > bound)
        {
            throw TooLarge(message, argument, size);
        }
    }

    /// <summary>Throws unless the <c>bytes</c>, <c>?f</c> or <c>?d</c> argument <paramref name="value"/> is within its bound. A null value is left to the writer.</summary>
    /// <exception cref="ArgumentTooLargeException">It holds more than <paramref name="bound"/> bytes or values.</exception>
    public static void CheckArray(Array? value, int bound, MessageDescriptor message, int argument)
    {
        if (value is not null && value.Length > bound)
        {
            throw TooLarge(message, argument, value.Length);
        }
    }

    /// <summary>
    /// Checks the bounded argument that starts <paramref name="data"/> from its header alone. A header that is not
    /// the argument's type, or is cut off, passes: reading the argument then reports it.
    /// </summary>
    /// <exception cref="ProtocolException">The header says the argument is longer than <paramref name="bound"/>.</exception>
    public static void CheckNext(ReadOnlySpan<byte> data, int bound, MessageDescriptor message, int argument)
    {
        ArgumentNullException.ThrowIfNull(message);
        long size = SizeFromHeader(data, message.Arguments[argument].Type);
        if (size > bound)
        {
            MessageArgument defined = message.Arguments[argument];
            throw new ProtocolException(
                $"Received a {message.Name} message whose argument '{defined.Name}' holds {size} {defined.BoundUnit}, over its bound of {bound} ({defined}).",
                message.Name);
        }
    }

    /// <summary>
    /// Checks a bounded <c>str</c> argument once decoded. Valid UTF-8 decodes to a string of the same length in UTF-8,
    /// which <see cref="CheckNext(ReadOnlySpan{byte}, int, MessageDescriptor, int)"/> has checked; invalid bytes decode
    /// to U+FFFD, three bytes each, and a string so grown past its bound could not be sent on (by a room relaying it).
    /// </summary>
    /// <exception cref="ProtocolException">The decoded string is longer than <paramref name="bound"/> bytes of UTF-8.</exception>
    public static void CheckDecoded(string value, int bound, MessageDescriptor message, int argument)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(message);
        if ((long)value.Length * 3 <= bound)
        {
            return;
        }

        int size = Encoding.UTF8.GetByteCount(value);
        if (size > bound)
        {
            MessageArgument defined = message.Arguments[argument];
            throw new ProtocolException(
                $"Received a {message.Name} message whose argument '{defined.Name}' is not valid UTF-8: it decodes to {size} bytes, over its bound of {bound} ({defined}).",
                message.Name);
        }
    }

    /// <summary>Checks the bounded argument at <paramref name="reader"/>'s position, as the span overload does, without moving the reader.</summary>
    /// <exception cref="ProtocolException">The header says the argument is longer than <paramref name="bound"/>.</exception>
    public static void CheckNext(ref MessagePackReader reader, int bound, MessageDescriptor message, int argument)
    {
        ReadOnlySequence<byte> rest = reader.Sequence.Slice(reader.Position);
        Span<byte> header = stackalloc byte[5];
        header = header[..(int)Math.Min(header.Length, rest.Length)];
        rest.Slice(0, header.Length).CopyTo(header);
        CheckNext(header, bound, message, argument);
    }

    /// <summary>How many bytes or values the header at the start of <paramref name="data"/> announces for an argument of <paramref name="type"/>; -1 if it does not say.</summary>
    private static long SizeFromHeader(ReadOnlySpan<byte> data, ArgumentType type)
    {
        if (data.IsEmpty)
        {
            return -1;
        }

        byte code = data[0];
        switch (type)
        {
            case ArgumentType.String when code is >= MessagePackCode.MinFixStr and <= MessagePackCode.MaxFixStr:
                return code & 0x1f;
            case ArgumentType.String when code is MessagePackCode.Str8 or MessagePackCode.Str16 or MessagePackCode.Str32:
            case ArgumentType.Bytes when code is MessagePackCode.Bin8 or MessagePackCode.Bin16 or MessagePackCode.Bin32:
                return Length(data, code);
            case ArgumentType.SingleArray or ArgumentType.DoubleArray when code is MessagePackCode.Bin8 or MessagePackCode.Bin16 or MessagePackCode.Bin32:
                long bytes = Length(data, code);
                return bytes < 0 ? -1 : bytes / (type == ArgumentType.SingleArray ? sizeof(float) : sizeof(double));
            case ArgumentType.SingleArray or ArgumentType.DoubleArray when code is >= MessagePackCode.MinFixArray and <= MessagePackCode.MaxFixArray:
                return code & 0x0f;
            case ArgumentType.SingleArray or ArgumentType.DoubleArray when code is MessagePackCode.Array16 or MessagePackCode.Array32:
                return Length(data, code);
            default:
                return -1;
        }
    }

    /// <summary>The length after a str8/16/32, bin8/16/32 or array16/32 code, as an unsigned number; -1 if cut off.</summary>
    private static long Length(ReadOnlySpan<byte> data, byte code)
    {
        int size = code switch
        {
            MessagePackCode.Str8 or MessagePackCode.Bin8 => 1,
            MessagePackCode.Str16 or MessagePackCode.Bin16 or MessagePackCode.Array16 => 2,
            _ => 4,
        };

        if (data.Length < 1 + size)
        {
            return -1;
        }

        ReadOnlySpan<byte> length = data.Slice(1, size);
        return size switch
        {
            1 => length[0],
            2 => BinaryPrimitives.ReadUInt16BigEndian(length),
            _ => BinaryPrimitives.ReadUInt32BigEndian(length),
        };
    }

    private static ArgumentTooLargeException TooLarge(MessageDescriptor message, int argument, long size)
    {
        MessageArgument defined = message.Arguments[argument];
        return new ArgumentTooLargeException(
            message.Name, defined.Name, defined.PropertyName, size, defined.Bound ?? 0, defined.Type == ArgumentType.String ? "bytes of UTF-8" : defined.BoundUnit, defined.ToString());
    }
}
