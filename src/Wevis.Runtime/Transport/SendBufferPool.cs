using System.Buffers;
using System.Collections.Concurrent;

namespace Wevis.Transport;

/// <summary>
/// The blocks that outgoing pipes queue frames in: fixed-size, pinned, and kept for reuse when returned (up to
/// <see cref="MaxRetainedBlocks"/>), as Kestrel's pinned block pool keeps its blocks.
/// </summary>
/// <remarks>
/// <para>A broadcast within a dispatch batch writes one frame into every recipient's pipe before any of them is
/// flushed, so as many blocks are rented at once as there are recipients. <see cref="ArrayPool{T}.Shared"/> keeps only
/// a few dozen arrays of a size per core: with 1,000 recipients most rents allocated a fresh array and most returns
/// dropped one, 16 KiB of garbage per recipient per batch (about 1.9 KiB per delivered frame at 16 frames in
/// flight). Blocks kept here are reused instead; an idle connection holds none (its pipe returns its blocks once
/// everything queued is sent).</para>
/// <para>Requests larger than a block do not reach the pool: a pipe asks <see cref="ArrayPool{T}.Shared"/> for those.</para>
/// </remarks>
internal sealed class SendBufferPool : MemoryPool<byte>
{
    /// <summary>The size of every block, and the outgoing pipes' minimum segment size.</summary>
    public const int BlockSize = 4096;

    /// <summary>Blocks kept for reuse at most (16 MiB); more returned at once are left to the garbage collector.</summary>
    public const int MaxRetainedBlocks = 4096;

    private readonly ConcurrentQueue<Block> _free = new();
    private int _retained;

    /// <summary>The pool every outgoing pipe shares.</summary>
    public static new SendBufferPool Shared { get; } = new();

    /// <summary>Blocks waiting for reuse now.</summary>
    public int Retained => Volatile.Read(ref _retained);

    /// <inheritdoc/>
    public override int MaxBufferSize => BlockSize;

    /// <inheritdoc/>
    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        if (_free.TryDequeue(out Block? block))
        {
            Interlocked.Decrement(ref _retained);
            block.Rented();
            return block;
        }

        return new Block(this);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        // Shared for the process's lifetime: nothing to release.
    }

    private void Return(Block block)
    {
        if (Interlocked.Increment(ref _retained) <= MaxRetainedBlocks)
        {
            _free.Enqueue(block);
        }
        else
        {
            Interlocked.Decrement(ref _retained);
        }
    }

    /// <summary>One block; disposing it (the pipe does, once the block is sent) gives it back.</summary>
    private sealed class Block(SendBufferPool pool) : IMemoryOwner<byte>
    {
        private readonly byte[] _array = GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true);
        private int _returned;

        public Memory<byte> Memory => _array;

        public void Rented() => Volatile.Write(ref _returned, 0);

        public void Dispose()
        {
            // Once per rent: a second dispose must not put the block in the pool twice.
            if (Interlocked.Exchange(ref _returned, 1) == 0)
            {
                pool.Return(this);
            }
        }
    }
}
