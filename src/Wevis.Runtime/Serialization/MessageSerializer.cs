using System.Buffers;
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
            var reader = new MessagePackReader(body);
            int count = WireFormat.ReadBodyHeader(ref reader);
            int wireId = WireFormat.ReadWireId(ref reader);
            if (!registry.TryGetByWireId(wireId, out descriptor))
            {
                throw new ProtocolException($"Unknown message wire id {wireId}: no message type in this program has it.");
            }

            descriptor.CheckArgumentCount(count - 1);
            IMessage message = descriptor.ReadArguments(ref reader);
            if (!reader.End)
            {
                throw new ProtocolException(
                    $"Malformed {descriptor.Name} message: {body.Length - reader.Consumed} byte(s) follow its last argument.", descriptor.Name);
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

    /// <summary>Reads one message body that spans the whole of <paramref name="body"/>.</summary>
    /// <exception cref="ProtocolException">The bytes are not one whole message of a type in <paramref name="registry"/>.</exception>
    public static IMessage Read(ReadOnlyMemory<byte> body, MessageRegistry registry) => Read(new ReadOnlySequence<byte>(body), registry);
}
