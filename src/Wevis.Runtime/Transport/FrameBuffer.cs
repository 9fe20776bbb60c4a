using System.Buffers;
using System.Buffers.Binary;
using MessagePack;
using Wevis.Serialization;

namespace Wevis.Transport;

/// <summary>
/// A reusable buffer that holds one encoded frame: the length prefix, then the MessagePack body. Each thread
/// keeps one, so encoding a message allocates nothing once the buffer has grown to fit.
/// </summary>
internal sealed class FrameBuffer : IBufferWriter<byte>
{
    /// <summary>Buffers that grew past this (for a huge message) are dropped after use rather than kept.</summary>
    private const int MaxRetainedSize = 1024 * 1024;

    [ThreadStatic]
    private static FrameBuffer? t_cached;

    private byte[] _buffer = new byte[512];
    private int _written;

    /// <summary>The frame written so far, length prefix included.</summary>
    public ReadOnlySpan<byte> Frame => _buffer.AsSpan(0, _written);

    /// <summary>The body's length: the frame without its prefix.</summary>
    public int BodyLength => _written - FrameReader.HeaderSize;

    /// <summary>Encodes <paramref name="message"/> as a frame into this thread's buffer; return it with <see cref="Return"/>.</summary>
    /// <exception cref="ArgumentNullException">A reference-typed argument of the message is null.</exception>
    public static FrameBuffer Encode(IMessage message)
    {
        FrameBuffer buffer = t_cached ?? new FrameBuffer();
        t_cached = null;
        buffer._written = FrameReader.HeaderSize;
        try
        {
            var writer = new MessagePackWriter(buffer);
            message.Descriptor.Write(ref writer, message);
            writer.Flush();
        }
        catch
        {
            Return(buffer);
            throw;
        }

        BinaryPrimitives.WriteInt32BigEndian(buffer._buffer, buffer.BodyLength);
        return buffer;
    }

    /// <summary>Throws the error for a message whose body of <paramref name="bodyLength"/> bytes is over <paramref name="maxFrameSize"/>.</summary>
    /// <exception cref="ArgumentException">Always.</exception>
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    public static void ThrowOverLimit(MessageDescriptor descriptor, int bodyLength, int maxFrameSize) =>
        throw new ArgumentException(
            $"The {descriptor.Name} message is {bodyLength} bytes, over the frame limit of {maxFrameSize} bytes; nothing was sent.",
            "message");

    /// <summary>Gives the buffer back to this thread for the next message.</summary>
    public static void Return(FrameBuffer buffer)
    {
        if (buffer._buffer.Length <= MaxRetainedSize)
        {
            t_cached = buffer;
        }
    }

    /// <inheritdoc/>
    public void Advance(int count) => _written += count;

    /// <inheritdoc/>
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    /// <inheritdoc/>
    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    private void Ensure(int sizeHint)
    {
        int needed = _written + Math.Max(sizeHint, 1);
        if (needed > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(needed, checked(_buffer.Length * 2)));
        }
    }
}
