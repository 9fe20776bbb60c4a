using System.Buffers;
using System.Buffers.Binary;

namespace Wevis.Transport;

/// <summary>
/// Takes whole frames off the front of received bytes. A frame is a 4-byte big-endian length, then that many
/// bytes of message body (docs/protocol.md). The length is checked against the limit as soon as its four bytes
/// have arrived, before any of the body is waited for, so a huge length costs nothing.
/// </summary>
internal static class FrameReader
{
    /// <summary>The size of the length prefix.</summary>
    public const int HeaderSize = 4;


    /// <summary>
    /// Takes one whole frame's body off the front of <paramref name="buffer"/>, or returns false if the frame
    /// has not fully arrived yet (leaving <paramref name="buffer"/> as it was).
    /// </summary>
    /// <param name="buffer">The bytes received.</param>
    /// <param name="maxFrameSize">The connection's frame limit.</param>
    /// <param name="body">The frame's body, when it has arrived whole.</param>
    /// <param name="registry">If given, a frame still arriving is held to its message's own bound (<see cref="MessageFrameBound"/>).</param>
    /// <exception cref="ProtocolException">The length is zero, over <paramref name="maxFrameSize"/>, or over the message's bound.</exception>
    public static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, int maxFrameSize, out ReadOnlySequence<byte> body, MessageRegistry? registry = null)
    {
        if (buffer.Length < HeaderSize)
        {
            body = default;
            return false;
        }

        uint length = ReadLength(buffer);
        CheckLength(length, maxFrameSize);
        if (buffer.Length - HeaderSize < length)
        {
            if (registry is not null)
            {
                Span<byte> start = stackalloc byte[MessageFrameBound.BodyStartSize];
                start = start[..(int)Math.Min(MessageFrameBound.BodyStartSize, buffer.Length - HeaderSize)];
                buffer.Slice(HeaderSize, start.Length).CopyTo(start);
                MessageFrameBound.Check(start, length, registry);
            }

            body = default;
            return false;
        }

        body = buffer.Slice(HeaderSize, length);
        buffer = buffer.Slice(body.End);
        return true;
    }

    /// <summary>
    /// Whether a whole frame is at the front of <paramref name="buffer"/> (contiguous bytes); if so,
    /// <paramref name="bodyLength"/> is its body's length, and the body follows the 4-byte prefix.
    /// </summary>
    /// <param name="buffer">The bytes received.</param>
    /// <param name="maxFrameSize">The connection's frame limit.</param>
    /// <param name="bodyLength">The frame's body length, when it has arrived whole.</param>
    /// <param name="registry">If given, a frame still arriving is held to its message's own bound (<see cref="MessageFrameBound"/>).</param>
    /// <exception cref="ProtocolException">The length is zero, over <paramref name="maxFrameSize"/>, or over the message's bound.</exception>
    public static bool TryReadFrame(ReadOnlySpan<byte> buffer, int maxFrameSize, out int bodyLength, MessageRegistry? registry = null)
    {
        bodyLength = 0;
        if (buffer.Length < HeaderSize)
        {
            return false;
        }

        uint length = BinaryPrimitives.ReadUInt32BigEndian(buffer);
        CheckLength(length, maxFrameSize);
        if ((uint)(buffer.Length - HeaderSize) < length)
        {
            if (registry is not null)
            {
                MessageFrameBound.Check(buffer[HeaderSize..], length, registry);
            }

            return false;
        }

        bodyLength = (int)length;
        return true;
    }

    private static void CheckLength(uint length, int maxFrameSize)
    {
        if (length == 0)
        {
            throw new ProtocolException("Received a frame of length 0; every frame must hold a message.");
        }

        if (length > (uint)maxFrameSize)
        {
            throw new ProtocolException(TlsDetection.IsTlsRecordHeader(length)
                ? "The peer is speaking TLS (its first bytes are a TLS handshake record, not a Wevis frame), but this connection does not use TLS; turn TLS off in the client (ClientOptions.UseTls = false), or give the server a certificate."
                : $"Received a frame of {length} bytes, over the limit of {maxFrameSize} bytes.");
        }
    }

    private static uint ReadLength(in ReadOnlySequence<byte> buffer)
    {
        ReadOnlySpan<byte> first = buffer.FirstSpan;
        if (first.Length >= HeaderSize)
        {
            return BinaryPrimitives.ReadUInt32BigEndian(first);
        }

        Span<byte> header = stackalloc byte[HeaderSize];
        buffer.Slice(0, HeaderSize).CopyTo(header);
        return BinaryPrimitives.ReadUInt32BigEndian(header);
    }
}
