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
/// <para>Each buffer keeps a small block of its own (<see cref="ResidentSize"/> bytes), used whenever the buffer is
/// empty and the next write fits: a request/response connection, which has one small frame queued at a time, never
/// touches the shared pool, whose blocks are shared by every connection and come back cold from the cache. A write
/// that outgrows it moves what it holds, not yet taken, into a pooled block, so a burst still goes out as one
/// segment.</para>
/// <para>Why not a <see cref="System.IO.Pipelines.Pipe"/>: every reply paid for the pipe's own lock (taken by the
/// flush, the read and the advance), its scheduling of the reader, and a new write head; the queue's lock already
/// orders writers and the one sender.</para>
/// </remarks>
internal sealed class OutgoingBuffer(SendBufferPool pool) : IBufferWriter<byte>
{
    /// <summary>The size of the block every buffer keeps for itself (as the receive side keeps a small array).</summary>
    internal const int ResidentSize = 256;

    private readonly SendBlock _resident = new(GC.AllocateArray<byte>(ResidentSize, pinned: true), pooled: false);
    private bool _residentInUse; // the resident block is the buffer's only block, or waits among those taken
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
    /// left in it (an idle connection holds no pooled block, only its resident one).
    /// </summary>
    public void Sent()
    {
        ReturnTaken();
        if (_head is { } head && head == _tail && head.Start == head.End)
        {
            _head = null;
            _tail = null;
            Release(head);
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
            Release(block);
            block = next;
        }
    }

    private void Release(SendBlock block)
    {
        if (ReferenceEquals(block, _resident))
        {
            block.Reset();
            _residentInUse = false;
        }
        else
        {
            pool.Return(block);
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

        if (tail is null && !_residentInUse && needed <= ResidentSize)
        {
            _residentInUse = true;
            _head = _resident;
            _tail = _resident;
            return _resident;
        }

        if (ReferenceEquals(tail, _resident))
        {
            return OutgrowResident(needed);
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

    /// <summary>
    /// The resident block, always the buffer's only block when written, has no room for <paramref name="needed"/>
    /// bytes: the bytes in it not yet taken move to the front of a pooled block, which takes its place. If a send
    /// took some of it, the socket may still be reading them: it waits with the blocks taken until that send ends.
    /// </summary>
    private SendBlock OutgrowResident(int needed)
    {
        SendBlock resident = _resident;
        int untaken = resident.End - resident.Start;
        SendBlock block = pool.Rent(untaken + needed);
        resident.Array.AsSpan(resident.Start, untaken).CopyTo(block.Array);
        block.End = untaken;
        if (resident.Start > 0)
        {
            resident.Next = _taken;
            _taken = resident;
        }
        else
        {
            Release(resident);
        }

        _head = block;
        _tail = block;
        return block;
    }
}
