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
    public static IMessage Read(ReadOnlySpan<byte> body, MessageRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var reader = new WireReader(body);
        int count = reader.ReadBodyHeader(out int wireId);
        if (!registry.TryGetByWireId(wireId, out MessageDescriptor? descriptor))
        {
            return Envelopes.Read(ref reader, count, wireId, registry) ?? throw UnknownWireId(wireId);
        }

        if (count - 1 != descriptor.ArgumentCount)
        {
            descriptor.CheckArgumentCount(count - 1);
        }

        IMessage message = descriptor.ReadArguments(ref reader);
        if (!reader.End)
        {
            throw TrailingBytes(descriptor, body.Length - reader.Consumed);
        }

        return message;
    }

    /// <summary>Reads one message body that spans the whole of <paramref name="body"/>.</summary>
    /// <exception cref="ProtocolException">
    /// The bytes are not one whole message of a type in <paramref name="registry"/>. No other exception is
    /// thrown for bad input.
    /// </exception>
    public static IMessage Read(ReadOnlyMemory<byte> body, MessageRegistry registry) => Read(body.Span, registry);

    /// <summary>Reads one message body that spans the whole of <paramref name="body"/> (what <see cref="ToBytes"/> made, say).</summary>
    /// <exception cref="ProtocolException">
    /// The bytes are not one whole message of a type in <paramref name="registry"/>. No other exception is
    /// thrown for bad input.
    /// </exception>
    /// <remarks>An array converts to both a span and a memory; this overload spares callers the ambiguity.</remarks>
    public static IMessage Read(byte[] body, MessageRegistry registry) => Read(new ReadOnlySpan<byte>(body ?? throw new ArgumentNullException(nameof(body))), registry);

    /// <summary>Reads one message body that spans the whole of <paramref name="body"/>.</summary>
    /// <exception cref="ProtocolException">
    /// The bytes are not one whole message of a type in <paramref name="registry"/>. No other exception is
    /// thrown for bad input.
    /// </exception>
    /// <remarks>
    /// A body in one segment is read from its span (<see cref="Read(ReadOnlySpan{byte}, MessageRegistry)"/>); one
    /// spread over several is read in place with a <see cref="MessagePackReader"/>, which accepts and refuses
    /// exactly the same bodies with the same errors.
    /// </remarks>
    public static IMessage Read(ReadOnlySequence<byte> body, MessageRegistry registry) =>
        body.IsSingleSegment ? Read(body.FirstSpan, registry) : ReadSegmented(body, registry);

    /// <summary>Whether an exception from <see cref="MessagePackReader"/> means the data was bad (and not a bug).</summary>
    /// <remarks>
    /// ArgumentOutOfRangeException: MessagePackReader takes a str32/bin32 length of 2^31 or more as a negative
    /// int and fails slicing with it, instead of reporting the missing bytes.
    /// </remarks>
    internal static bool IsMessagePackFailure(Exception ex) =>
        ex is MessagePackSerializationException or EndOfStreamException or OverflowException or ArgumentOutOfRangeException;

    /// <summary>
    /// The reason a body that <see cref="MessagePackReader"/> refused with an exception of its own is bad, in Wevis's
    /// words. MessagePackReader's texts ("Attempted to read past the end of the stream.") name neither the argument
    /// nor what was wrong, so the body is read again with <see cref="WireReader"/>, which refuses exactly the same
    /// bodies and says why; both read paths therefore give the same reason. Only refused bodies pay for the copy.
    /// </summary>
    internal static ProtocolException Explain(in ReadOnlySequence<byte> body, MessageRegistry registry, MessageDescriptor? descriptor, Exception failure)
    {
        int length = (int)body.Length; // a frame, so within the frame limit
        byte[] copy = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            body.CopyTo(copy);
            Read(copy.AsSpan(0, length), registry);
        }
        catch (ProtocolException reason)
        {
            return new ProtocolException(reason.Message, reason.MessageName, failure);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(copy);
        }

        return Disagreement(descriptor, failure);
    }

    /// <summary>The reason when the two readers disagree, which is a bug in Wevis (the read-path agreement tests look for it).</summary>
    internal static ProtocolException Disagreement(MessageDescriptor? descriptor, Exception failure) =>
        new($"Malformed {(descriptor is null ? "message" : descriptor.Name + " message")}: MessagePack refused it ({failure.GetType().Name}) where Wevis's own reader did not; please report this.", descriptor?.Name, failure);

    private static IMessage ReadSegmented(ReadOnlySequence<byte> body, MessageRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        MessageDescriptor? descriptor = null;
        try
        {
            // The header is judged from its first bytes as the span path judges it, so both report the same errors.
            Span<byte> head = stackalloc byte[6];
            head = head[..(int)Math.Min(head.Length, body.Length)];
            body.Slice(0, head.Length).CopyTo(head);

            MessagePackReader reader;
            if (WireReader.TryReadCommonHeader(head, out int count, out int wireId, out int headerLength))
            {
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
                return Envelopes.Read(ref reader, count, wireId, registry) ?? throw UnknownWireId(wireId);
            }

            descriptor.CheckArgumentCount(count - 1);
            IMessage message = descriptor.ReadArguments(ref reader);
            if (!reader.End)
            {
                throw TrailingBytes(descriptor, reader.Sequence.Length - reader.Consumed);
            }

            return message;
        }
        catch (Exception ex) when (IsMessagePackFailure(ex))
        {
            throw Explain(body, registry, descriptor, ex);
        }
    }

    internal static ProtocolException UnknownWireId(int wireId) =>
        new($"Unknown message wire id {wireId}: no message type in this program has it.");

    internal static ProtocolException TrailingBytes(MessageDescriptor descriptor, long count) =>
        new($"Malformed {descriptor.Name} message: {count} byte(s) follow its last argument.", descriptor.Name);
}
