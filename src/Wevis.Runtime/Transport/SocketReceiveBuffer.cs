using System.Buffers;
using System.Buffers.Binary;

namespace Wevis.Transport;

/// <summary>
/// The receive buffer of a plain (not TLS) socket connection. A quiet connection holds only a small resident
/// array, which is also enough for a typical request: one <c>recv</c> per message, with no wait-then-read pair.
/// A read that fills the space it was given means a burst: the next reads go into a larger array from the shared
/// pool, which goes back to the pool once everything received has been consumed and a read has brought no more
/// than the resident array holds (the burst is over).
/// </summary>
internal sealed class SocketReceiveBuffer
{
    /// <summary>What every connection keeps: room for a few small frames.</summary>
    private const int ResidentSize = 256;

    /// <summary>The least a burst buffer holds.</summary>
    private const int BurstSize = 16 * 1024;

    private readonly byte[] _resident = new byte[ResidentSize];
    private byte[] _buffer;
    private int _start;
    private int _end;
    private bool _lastReadFilled;
    private int _lastReadSize;

    public SocketReceiveBuffer() => _buffer = _resident;

    /// <summary>The bytes received and not yet consumed, which are contiguous.</summary>
    public ReadOnlyMemory<byte> Unconsumed => new(_buffer, _start, _end - _start);

    /// <summary>
    /// Room for the next read: at least the rest of a frame whose length has arrived (up to
    /// <paramref name="maxFrameSize"/>; a longer one is refused by the frame reader before this is asked).
    /// </summary>
    public Memory<byte> GetReadSpace(int maxFrameSize)
    {
        int unconsumed = _end - _start;
        int needed = 1;
        if (unconsumed >= FrameReader.HeaderSize)
        {
            uint length = BinaryPrimitives.ReadUInt32BigEndian(_buffer.AsSpan(_start));
            if (length <= (uint)maxFrameSize)
            {
                needed = Math.Max(1, FrameReader.HeaderSize + (int)length - unconsumed);
            }
        }

        bool burst = _lastReadFilled && ReferenceEquals(_buffer, _resident);
        if (!burst && _buffer.Length - _end >= needed)
        {
            return _buffer.AsMemory(_end);
        }

        if (!burst && _start > 0 && _buffer.Length - unconsumed >= needed)
        {
            // Room enough once the unconsumed bytes move to the front.
            _buffer.AsSpan(_start, unconsumed).CopyTo(_buffer);
        }
        else
        {
            byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(BurstSize, unconsumed + needed));
            _buffer.AsSpan(_start, unconsumed).CopyTo(larger);
            ReturnPooled();
            _buffer = larger;
        }

        _start = 0;
        _end = unconsumed;
        return _buffer.AsMemory(_end);
    }

    /// <summary>Records that a read put <paramref name="count"/> bytes into the space from <see cref="GetReadSpace"/>.</summary>
    public void Received(int count)
    {
        _end += count;
        _lastReadFilled = _end == _buffer.Length;
        _lastReadSize = count;
    }

    /// <summary>Drops <paramref name="count"/> bytes from the front of <see cref="Unconsumed"/>.</summary>
    public void Consume(int count)
    {
        _start += count;
        if (_start == _end)
        {
            _start = 0;
            _end = 0;
            if (_lastReadSize <= ResidentSize && !ReferenceEquals(_buffer, _resident))
            {
                // The burst is over: back to the resident array.
                ReturnPooled();
                _buffer = _resident;
            }
        }
    }

    /// <summary>Gives a pooled array back; the buffer is not used afterwards.</summary>
    public void Release()
    {
        ReturnPooled();
        _buffer = _resident;
        _start = 0;
        _end = 0;
    }

    private void ReturnPooled()
    {
        if (!ReferenceEquals(_buffer, _resident))
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }
    }
}
