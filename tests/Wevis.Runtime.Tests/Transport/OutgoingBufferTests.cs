using System.Buffers;
using Wevis.Transport;

namespace Wevis.Runtime.Tests.Transport;

/// <summary>
/// A send queue's buffer: only flushed bytes are taken, in order; taken bytes are never written over while their send
/// is under way; the blocks go back to the pool once sent, so an idle connection holds none of them; and a connection
/// with one small frame at a time uses its own small block, not the pool's.
/// </summary>
public class OutgoingBufferTests
{
    [Fact]
    public void OnlyFlushedBytesAreTakenInTheOrderWritten()
    {
        var buffer = new OutgoingBuffer(new SendBufferPool());
        List<ArraySegment<byte>> segments = [];
        buffer.Write(Bytes(1, 3000));
        buffer.Write(Bytes(2, 3000)); // crosses into a second block
        buffer.Flush();
        buffer.Write(Bytes(3, 10)); // not flushed: stays

        Assert.Equal(6000, buffer.Take(segments));
        Assert.Equal([.. Bytes(1, 3000), .. Bytes(2, 3000)], Concat(segments));
        buffer.Sent();

        Assert.Equal(0, buffer.Take(segments));
        Assert.Empty(segments);
        buffer.Flush();
        Assert.Equal(10, buffer.Take(segments));
        Assert.Equal(Bytes(3, 10), Concat(segments));
    }

    [Fact]
    public void BytesWrittenWhileASendIsUnderWayDoNotTouchWhatItTook()
    {
        var buffer = new OutgoingBuffer(new SendBufferPool());
        List<ArraySegment<byte>> segments = [];
        buffer.Write(Bytes(1, 100));
        buffer.Flush();
        buffer.Take(segments);
        byte[] taken = Concat(segments);

        // The socket still reads the taken bytes; the writer goes on in the same block.
        buffer.Write(Bytes(2, 100));
        buffer.Flush();
        Assert.Equal(taken, Concat(segments));

        buffer.Sent();
        Assert.Equal(100, buffer.Take(segments));
        Assert.Equal(Bytes(2, 100), Concat(segments));
    }

    [Fact]
    public void EveryBlockGoesBackOnceEverythingIsSent()
    {
        var pool = new SendBufferPool();
        var buffer = new OutgoingBuffer(pool);
        List<ArraySegment<byte>> segments = [];
        buffer.Write(Bytes(1, 3 * SendBufferPool.BlockSize + 5)); // four blocks
        buffer.Flush();
        buffer.Take(segments);
        Assert.Equal(0, pool.Retained);

        buffer.Sent();

        Assert.Equal(4, pool.Retained);
        Assert.Equal(0, buffer.Take(segments));
    }

    [Fact]
    public void AFrameLargerThanABlockGetsOneContiguousBlockOfItsOwn()
    {
        var pool = new SendBufferPool();
        var buffer = new OutgoingBuffer(pool);
        List<ArraySegment<byte>> segments = [];
        Memory<byte> memory = buffer.GetMemory(3 * SendBufferPool.BlockSize);
        Assert.True(memory.Length >= 3 * SendBufferPool.BlockSize);
        Bytes(7, 3 * SendBufferPool.BlockSize).CopyTo(memory);
        buffer.Advance(3 * SendBufferPool.BlockSize);
        buffer.Flush();

        buffer.Take(segments);
        Assert.Single(segments);
        Assert.Equal(Bytes(7, 3 * SendBufferPool.BlockSize), Concat(segments));
        buffer.Sent();
        Assert.Equal(0, pool.Retained); // its array went back to the shared array pool, not here
    }

    [Fact]
    public void ClearDropsWhatWasNotSentAndGivesEveryBlockBack()
    {
        var pool = new SendBufferPool();
        var buffer = new OutgoingBuffer(pool);
        List<ArraySegment<byte>> segments = [];
        buffer.Write(Bytes(1, SendBufferPool.BlockSize + 1));
        buffer.Flush();
        buffer.Take(segments);
        buffer.Write(Bytes(2, 10));

        buffer.Clear();

        Assert.Equal(2, pool.Retained);
        Assert.Equal(0, buffer.UnflushedBytes);
        Assert.Equal(0, buffer.Take(segments));
    }

    [Fact]
    public void ASmallFrameAtATimeNeverTakesABlockFromThePool()
    {
        var pool = new SendBufferPool();
        var buffer = new OutgoingBuffer(pool);
        List<ArraySegment<byte>> segments = [];
        for (int i = 0; i < 3; i++)
        {
            buffer.Write(Bytes(i, 40));
            buffer.Flush();
            Assert.Equal(40, buffer.Take(segments));
            Assert.Equal(Bytes(i, 40), Concat(segments));
            buffer.Sent();
        }

        // Every frame went through the buffer's own block: none was rented, so none came back either.
        Assert.Equal(0, pool.Retained);
    }

    [Fact]
    public void OutgrowingTheOwnBlockKeepsTheBytesInOrderInOneSegment()
    {
        var pool = new SendBufferPool();
        var buffer = new OutgoingBuffer(pool);
        List<ArraySegment<byte>> segments = [];
        buffer.Write(Bytes(1, 200));
        buffer.Flush();
        buffer.Write(Bytes(2, 200)); // more than the buffer's own block holds: both move to a pooled block

        buffer.Flush();
        Assert.Equal(400, buffer.Take(segments));
        Assert.Single(segments);
        Assert.Equal([.. Bytes(1, 200), .. Bytes(2, 200)], Concat(segments));
    }

    [Fact]
    public void OutgrowingTheOwnBlockWhileASendReadsItLeavesTheTakenBytesAlone()
    {
        var pool = new SendBufferPool();
        var buffer = new OutgoingBuffer(pool);
        List<ArraySegment<byte>> segments = [];
        buffer.Write(Bytes(1, 200));
        buffer.Flush();
        buffer.Take(segments);
        byte[] taken = Concat(segments);

        buffer.Write(Bytes(2, 300)); // the socket still reads the first 200 bytes
        buffer.Write(Bytes(3, 100));
        Assert.Equal(taken, Concat(segments));
        Assert.Equal(Bytes(1, 200), taken);

        buffer.Sent();
        buffer.Flush();
        Assert.Equal(400, buffer.Take(segments));
        Assert.Equal([.. Bytes(2, 300), .. Bytes(3, 100)], Concat(segments));
        buffer.Sent();
        Assert.Equal(1, pool.Retained);

        // Empty again: the next small frame goes back into the buffer's own block.
        buffer.Write(Bytes(4, 10));
        Assert.Equal(1, pool.Retained);
    }

    private static byte[] Bytes(int seed, int length) => [.. Enumerable.Range(0, length).Select(i => (byte)(seed * 31 + i))];

    private static byte[] Concat(List<ArraySegment<byte>> segments) => [.. segments.SelectMany(segment => segment)];
}
