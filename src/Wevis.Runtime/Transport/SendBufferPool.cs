using System.Buffers;
using System.Collections.Concurrent;

namespace Wevis.Transport;

/// <summary>
/// The blocks that send queues hold frames in (<see cref="OutgoingBuffer"/>): fixed-size, pinned, and kept for reuse
/// when returned (up to <see cref="MaxRetainedBlocks"/>), as Kestrel's pinned block pool keeps its blocks.
/// </summary>
/// <remarks>
/// <para>A broadcast within a dispatch batch writes one frame into every recipient's queue before any of them is
/// flushed, so as many blocks are rented at once as there are recipients. <see cref="ArrayPool{T}.Shared"/> keeps only
/// a few dozen arrays of a size per core: with 1,000 recipients most rents allocated a fresh array and most returns
/// dropped one, 16 KiB of garbage per recipient per batch (about 1.9 KiB per delivered frame at 16 frames in
/// flight). Blocks kept here are reused instead; an idle connection holds none (its queue returns its blocks once
/// everything queued is sent, and keeps only a small block of its own, <see cref="OutgoingBuffer.ResidentSize"/>
/// bytes, which one small frame at a time fits in without renting from here).</para>
/// <para>A frame written whole that is larger than a block gets a block of its own, of an array from
/// <see cref="ArrayPool{T}.Shared"/>, which is not kept here.</para>
/// </remarks>
internal sealed class SendBufferPool
{
    /// <summary>The size of every pooled block.</summary>
    public const int BlockSize = 4096;

    /// <summary>Blocks kept for reuse at most (16 MiB); more returned at once are left to the garbage collector.</summary>
    public const int MaxRetainedBlocks = 4096;

    private readonly ConcurrentQueue<SendBlock> _free = new();
    private int _retained;

    /// <summary>The pool every send queue shares.</summary>
    public static SendBufferPool Shared { get; } = new();

    /// <summary>Blocks waiting for reuse now.</summary>
    public int Retained => Volatile.Read(ref _retained);

    /// <summary>A block with room for at least <paramref name="minimumSize"/> bytes, empty.</summary>
    public SendBlock Rent(int minimumSize)
    {
        if (minimumSize > BlockSize)
        {
            return new SendBlock(ArrayPool<byte>.Shared.Rent(minimumSize), pooled: false);
        }

        if (_free.TryDequeue(out SendBlock? block))
        {
            Interlocked.Decrement(ref _retained);
            return block;
        }

        return new SendBlock(GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true), pooled: true);
    }

    /// <summary>Gives a block back once nothing reads or writes it any more.</summary>
    public void Return(SendBlock block)
    {
        block.Reset();
        if (!block.Pooled)
        {
            ArrayPool<byte>.Shared.Return(block.Array);
            return;
        }

        if (Interlocked.Increment(ref _retained) <= MaxRetainedBlocks)
        {
            _free.Enqueue(block);
        }
        else
        {
            Interlocked.Decrement(ref _retained);
        }
    }
}
