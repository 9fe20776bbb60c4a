using MessagePack;
using Wevis.Serialization;

namespace Wevis.Transport;

/// <summary>
/// A message's own frame bound (<see cref="MessageDescriptor.BodySizeBound"/>), applied while its frame is still
/// arriving: once the body's first bytes name the message, a frame longer than any valid body of that message is
/// refused at once, before the receiver waits for the rest or makes room for it. A request or reply in its envelope is
/// held to its message's bound plus the envelope's few bytes. A frame that has arrived whole is left to decoding,
/// whose error names the argument that is too long.
/// </summary>
internal static class MessageFrameBound
{
    /// <summary>How much of a body's start is enough to name its message, in an envelope too.</summary>
    public const int BodyStartSize = 24;

    /// <summary>Throws if the frame of <paramref name="length"/> bytes whose body starts with <paramref name="bodyStart"/> is longer than its message allows.</summary>
    /// <exception cref="ProtocolException">It is.</exception>
    public static void Check(ReadOnlySpan<byte> bodyStart, uint length, MessageRegistry registry)
    {
        if (!WireReader.TryReadCommonHeader(bodyStart, out _, out int wireId, out int headerLength))
        {
            return;
        }

        long overhead = 0;
        if (Envelopes.Find(wireId) is not null)
        {
            // [envelope, request id, [wire id, …]]: skip the id, then name the message inside.
            ReadOnlySpan<byte> rest = bodyStart[headerLength..];
            int idLength = IntegerLength(rest);
            if (idLength == 0 || !WireReader.TryReadCommonHeader(rest[idLength..], out _, out wireId, out _))
            {
                return;
            }

            overhead = Envelopes.MaxOverhead;
        }

        if (registry.TryGetByWireId(wireId, out MessageDescriptor? descriptor) && length > descriptor.BodySizeBound + overhead)
        {
            throw new ProtocolException(
                $"Received a frame of {length} bytes for a {descriptor.Name} message, whose body is at most {descriptor.BodySizeBound + overhead} bytes ({descriptor.Definition}).",
                descriptor.Name);
        }
    }

    /// <summary>The length of the MessagePack integer at the start of <paramref name="data"/>; 0 if it is not one or is cut off.</summary>
    private static int IntegerLength(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return 0;
        }

        byte code = data[0];
        int length = code switch
        {
            <= MessagePackCode.MaxFixInt or >= MessagePackCode.MinNegativeFixInt => 1,
            MessagePackCode.UInt8 or MessagePackCode.Int8 => 2,
            MessagePackCode.UInt16 or MessagePackCode.Int16 => 3,
            MessagePackCode.UInt32 or MessagePackCode.Int32 => 5,
            MessagePackCode.UInt64 or MessagePackCode.Int64 => 9,
            _ => 0,
        };
        return length <= data.Length ? length : 0;
    }
}
