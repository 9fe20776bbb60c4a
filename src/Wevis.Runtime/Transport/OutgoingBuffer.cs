using System.Buffers;

namespace Wevis.Transport;

/// <summary>
/// The bytes a <see cref="SendQueue"/> holds, in blocks from <see cref="SendBufferPool"/>: frames are written at the
/// tail, flushed (made ready to send), and taken from the head by the one send under way.
/// </summary>
/// <remarks>
/// <para>Not thread-safe: the queue's lock guards every call. What a send has taken is read by the socket outside the
/// lock, so no taken byte is written again before <see cref="Sent"/>: blocks taken whole wait in a list of their own
/// until then, and the tail, which may still be written after what was taken, is given back only once it is
/// empty and its send has ended.</para>
/// <para>Why not a <see cref="System.IO.Pipelines.Pipe"/>: every reply paid for the pipe's own lock (taken by the
/// flush, the read and the advance), its scheduling of the reader, and a new write head; the queue's lock already
/// orders writers and the one sender.</para>
/// </remarks>
internal sealed class OutgoingBuffer(SendBufferPool pool) : IBufferWriter<byte>
{
    private SendBlock? _head;
    private SendBlock? _tail;
    private SendBlock? _taken; // blocks taken whole by the send under way, linked through Next, in any order
    private long _unflushed;
    private long _flushed;

    /// <summary>Bytes written since the last <see cref="Flush"/>.</summary>
    public long UnflushedBytes => _unflushed;

    /// <summary>Bytes flushed and not yet taken by a send.</summary>
    public long FlushedBytes => _flushed;

    /// <inheritdoc/>
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        SendBlock tail = WritableTail(sizeHint);
        return tail.Array.AsMemory(tail.End);
    }

    /// <inheritdoc/>
    public Span<byte> GetSpan(int sizeHint = 0)
    {
        SendBlock tail = WritableTail(sizeHint);
        return tail.Array.AsSpan(tail.End);
    }

    /// <inheritdoc/>
    public void Advance(int count)
    {
        SendBlock? tail = _tail;
        if (tail is null || (uint)count > (uint)tail.Free)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "More bytes than the memory last given out.");
        }

        tail.End += count;
        _unflushed += count;
    }

    /// <summary>Makes everything written so far ready to send.</summary>
    public void Flush()
    {
        _flushed += _unflushed;
        _unflushed = 0;
    }

    /// <summary>
    /// Takes every flushed byte for one send, in order, as <paramref name="segments"/> (cleared first); returns how
    /// many. Call <see cref="Sent"/> once the send has ended, before taking again.
    /// </summary>
    public long Take(List<ArraySegment<byte>> segments)
    {
        segments.Clear();
        long taken = _flushed;
        long left = taken;
        SendBlock? block = _head;
        while (left > 0 && block is not null)
        {
            int length = (int)Math.Min(block.End - block.Start, left);
            if (length > 0)
            {
                segments.Add(new ArraySegment<byte>(block.Array, block.Start, length));
                block.Start += length;
                left -= length;
            }

            SendBlock? next = block.Next;
            if (block != _tail && block.Start == block.End)
            {
                // Taken whole and never written again (only the tail is): it goes back once the send has ended.
                _head = next;
                block.Next = _taken;
                _taken = block;
            }

            block = next;
        }

        _flushed = 0;
        return taken;
    }

    /// <summary>
    /// The send of what was last taken has ended: its blocks go back to the pool, and so does the tail if nothing is
    /// left in it (an idle connection holds no block).
    /// </summary>
    public void Sent()
    {
        ReturnTaken();
        if (_head is { } head && head == _tail && head.Start == head.End)
        {
            _head = null;
            _tail = null;
            pool.Return(head);
        }
    }

    /// <summary>Gives every block back, dropping what was not sent; call only when no send is under way.</summary>
    public void Clear()
    {
        ReturnTaken();
        ReturnChain(_head);
        _head = null;
        _tail = null;
        _unflushed = 0;
        _flushed = 0;
    }

    private void ReturnTaken()
    {
        ReturnChain(_taken);
        _taken = null;
    }

    private void ReturnChain(SendBlock? block)
    {
        while (block is not null)
        {
            SendBlock? next = block.Next;
            pool.Return(block);
            block = next;
        }
    }

    private SendBlock WritableTail(int sizeHint)
    {
        int needed = Math.Max(sizeHint, 1);
        SendBlock? tail = _tail;
        if (tail is not null && tail.Free >= needed)
        {
            return tail;
        }

        // What is left of the old tail stays unused: a frame needing more room is written whole in the new block.
        SendBlock block = pool.Rent(needed);
        if (tail is null)
        {
            _head = block;
        }
        else
        {
            tail.Next = block;
        }

        _tail = block;
        return block;
    }
}
