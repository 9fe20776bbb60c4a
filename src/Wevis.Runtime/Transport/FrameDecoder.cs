using System.Buffers;
using Wevis.Serialization;

namespace Wevis.Transport;

/// <summary>
/// Turns received bytes into messages: takes the whole frames off the front of what has arrived and decodes each
/// into the batch, in order. Frames decoded before a bad one stay in the batch, so they are still handled.
/// </summary>
internal sealed class FrameDecoder(MessageRegistry registry, int maxFrameSize)
{
    /// <summary>The messages decoded since the batch was last cleared.</summary>
    public List<IMessage> Batch { get; } = [];

    /// <summary>The bytes of the frames in <see cref="Batch"/>, length prefixes included.</summary>
    public long BatchBytes { get; private set; }

    /// <summary>Empties the batch once it has been handled.</summary>
    public void ClearBatch()
    {
        Batch.Clear();
        BatchBytes = 0;
    }

    /// <summary>The largest frame accepted now; smaller until the peer has logged in.</summary>
    public int MaxFrameSize { get; set; } = maxFrameSize;

    /// <summary>Counts each frame decoded, on a server; null on a client.</summary>
    public Diagnostics.ServerMetrics? Metrics { get; set; }

    /// <summary>
    /// Decodes the whole frames at the front of <paramref name="buffer"/> into the batch and takes them off it.
    /// Returns the violation that stopped decoding, if any: a bad frame, or one cut off by the end of the stream.
    /// </summary>
    public ProtocolException? TakeFrames(ref ReadOnlySequence<byte> buffer, bool ended)
    {
        try
        {
            while (FrameReader.TryReadFrame(ref buffer, MaxFrameSize, out ReadOnlySequence<byte> body, registry))
            {
                IMessage message = MessageSerializer.Read(body, registry);
                Batch.Add(message);
                BatchBytes += FrameReader.HeaderSize + body.Length;
                Metrics?.Received(message.Descriptor, FrameReader.HeaderSize + (int)body.Length);
            }

            if (ended && !buffer.IsEmpty)
            {
                throw CutOff(buffer.Length);
            }

            return null;
        }
        catch (ProtocolException ex)
        {
            return ex;
        }
    }

    /// <summary>
    /// Decodes the whole frames at the front of contiguous <paramref name="buffer"/> into the batch, as the
    /// sequence overload does, without slicing sequences; <paramref name="consumed"/> is how many bytes they took.
    /// </summary>
    public ProtocolException? TakeFrames(ReadOnlySpan<byte> buffer, bool ended, out int consumed)
    {
        consumed = 0;
        try
        {
            while (FrameReader.TryReadFrame(buffer[consumed..], MaxFrameSize, out int bodyLength, registry))
            {
                IMessage message = MessageSerializer.Read(buffer.Slice(consumed + FrameReader.HeaderSize, bodyLength), registry);
                Batch.Add(message);
                BatchBytes += FrameReader.HeaderSize + bodyLength;
                Metrics?.Received(message.Descriptor, FrameReader.HeaderSize + bodyLength);
                consumed += FrameReader.HeaderSize + bodyLength;
            }

            if (ended && consumed < buffer.Length)
            {
                throw CutOff(buffer.Length - consumed);
            }

            return null;
        }
        catch (ProtocolException ex)
        {
            return ex;
        }
    }

    /// <summary>Whether the last violation was the stream ending in the middle of a frame: a cut connection, more likely than a broken peer.</summary>
    public bool EndedMidFrame { get; private set; }

    private ProtocolException CutOff(long bytes)
    {
        EndedMidFrame = true;
        return new($"The connection ended in the middle of a frame ({bytes} byte(s) of it arrived).");
    }
}
