using Wevis.Serialization;

namespace Wevis.Transport;

/// <summary>
/// A message's own frame bound (<see cref="MessageDescriptor.BodySizeBound"/>), applied while its frame is still
/// arriving: once the body's first bytes name the message, a frame longer than any valid body of that message is
/// refused at once, before the receiver waits for the rest or makes room for it. A frame that has arrived whole is
/// left to decoding, whose error names the argument that is too long.
/// </summary>
internal static class MessageFrameBound
{
    /// <summary>Throws if the frame of <paramref name="length"/> bytes whose body starts with <paramref name="bodyStart"/> is longer than its message allows.</summary>
    /// <exception cref="ProtocolException">It is.</exception>
    public static void Check(ReadOnlySpan<byte> bodyStart, uint length, MessageRegistry registry)
    {
        if (WireReader.TryReadCommonHeader(bodyStart, out _, out int wireId, out _)
            && registry.TryGetByWireId(wireId, out MessageDescriptor? descriptor)
            && length > (uint)descriptor.BodySizeBound)
        {
            throw new ProtocolException(
                $"Received a frame of {length} bytes for a {descriptor.Name} message, whose body is at most {descriptor.BodySizeBound} bytes ({descriptor.Definition}).",
                descriptor.Name);
        }
    }
}
