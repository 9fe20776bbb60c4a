using System.Buffers;
using System.Buffers.Binary;
using MessagePack;

namespace Wevis.Serialization;

/// <summary>
/// Writes a message's body (<c>[wire id, arguments…]</c> in MessagePack) and reads one back, finding its
/// type by wire id. Framing (the length prefix) is the transport's business; this is only the body.
/// </summary>
public static class MessageSerializer
{
    /// <summary>Writes <paramref name="message"/>'s body to <paramref name="output"/>.</summary>
    /// <exception cref="ArgumentNullException">An argument, or a reference-typed argument of the message, is null.</exception>
    public static void Write(IBufferWriter<byte> output, IMessage message)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(message);
        var writer = new MessagePackWriter(output);
        message.Descriptor.Write(ref writer, message);
        writer.Flush();
    }

    /// <summary>Writes <paramref name="message"/>'s body to a new array.</summary>
    public static byte[] ToBytes(IMessage message)
    {
        var buffer = new ArrayBufferWriter<byte>();
        Write(buffer, message);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads one message body that spans the whole of <paramref name="body"/>.</summary>
    /// <exception cref="ProtocolException">
    /// The bytes are not one whole message of a type in <paramref name="registry"/>. No other exception is
    /// thrown for bad input.
    /// </exception>
    public static IMessage Read(ReadOnlySequence<byte> body, MessageRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        MessageDescriptor? descriptor = null;
        try
        {
            MessagePackReader reader;
            int count;
            int wireId;
            if (TryReadHeader(body.FirstSpan, out count, out wireId, out int headerLength))
            {
                // The usual case: the header (array of at most 15 items, wire id) is read straight from the
                // first span, and the reader starts at the first argument.
                reader = new MessagePackReader(body.Slice(headerLength));
            }
            else
            {
                reader = new MessagePackReader(body);
                count = WireFormat.ReadBodyHeader(ref reader);
                wireId = WireFormat.ReadWireId(ref reader);
            }

            if (!registry.TryGetByWireId(wireId, out descriptor))
            {
                throw new ProtocolException($"Unknown message wire id {wireId}: no message type in this program has it.");
            }

            descriptor.CheckArgumentCount(count - 1);
            IMessage message = descriptor.ReadArguments(ref reader);
            if (!reader.End)
            {
                throw new ProtocolException(
                    $"Malformed {descriptor.Name} message: {reader.Sequence.Length - reader.Consumed} byte(s) follow its last argument.", descriptor.Name);
            }

            return message;
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException or OverflowException or ArgumentOutOfRangeException)
        {
            // ArgumentOutOfRangeException: MessagePackReader takes a str32/bin32 length of 2^31 or more as a negative
            // int and fails slicing with it, instead of reporting the missing bytes.
            string what = descriptor is null ? "message" : descriptor.Name + " message";
            throw new ProtocolException($"Malformed {what}: {ex.Message}", descriptor?.Name, ex);
        }
    }

    /// <summary>
    /// Reads a body's header from <paramref name="span"/> when it is in the common form: a fixarray of 1 to 15
    /// items, then the wire id as a positive fixint, uint8, uint16 or uint32 no larger than <see cref="int.MaxValue"/>.
    /// Anything else (including errors) is left to the general reader, which reports it.
    /// </summary>
    private static bool TryReadHeader(ReadOnlySpan<byte> span, out int count, out int wireId, out int length)
    {
        count = 0;
        wireId = 0;
        length = 0;
        if (span.Length < 2 || span[0] is < 0x91 or > 0x9f)
        {
            return false;
        }

        count = span[0] & 0x0f;
        byte code = span[1];
        if (code <= 0x7f)
        {
            wireId = code;
            length = 2;
            return true;
        }

        switch (code)
        {
            case 0xce when span.Length >= 6:
                uint value = BinaryPrimitives.ReadUInt32BigEndian(span[2..]);
                if (value > int.MaxValue)
                {
                    return false;
                }

                wireId = (int)value;
                length = 6;
                return true;
            case 0xcd when span.Length >= 4:
                wireId = BinaryPrimitives.ReadUInt16BigEndian(span[2..]);
                length = 4;
                return true;
            case 0xcc when span.Length >= 3:
                wireId = span[2];
                length = 3;
                return true;
            default:
                return false;
        }
    }

    /// <summary>Reads one message body that spans the whole of <paramref name="body"/>.</summary>
    /// <exception cref="ProtocolException">The bytes are not one whole message of a type in <paramref name="registry"/>.</exception>
    public static IMessage Read(ReadOnlyMemory<byte> body, MessageRegistry registry) => Read(new ReadOnlySequence<byte>(body), registry);
}
