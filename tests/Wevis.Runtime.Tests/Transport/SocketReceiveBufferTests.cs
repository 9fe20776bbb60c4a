using System.Buffers.Binary;
using CsCheck;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Transport;

namespace Wevis.Runtime.Tests.Transport;

/// <summary>The plain-socket receive buffer: every byte comes out once, in order, however the reads split the stream.</summary>
public class SocketReceiveBufferTests
{
    private const int MaxFrameSize = 64 * 1024;

    [Fact]
    public void FramesComeOutWholeAndInOrderWhateverTheReadSizes()
    {
        Gen<(int[] Bodies, int[] Reads)> gen = Gen.Select(
            Gen.OneOf(Gen.Int[1, 40], Gen.Int[1, 600], Gen.Int[1, 40_000]).Array[1, 60],
            Gen.OneOf(Gen.Int[1, 16], Gen.Int[1, 300], Gen.Int[1, 70_000]).Array[1, 40]);
        Property.Check(gen, input =>
        {
            (int[] bodies, int[] reads) = input;
            byte[] stream = Frames(bodies);
            var buffer = new SocketReceiveBuffer();
            var received = new List<byte[]>();
            int sent = 0;
            for (int i = 0; sent < stream.Length; i++)
            {
                Memory<byte> space = buffer.GetReadSpace(MaxFrameSize);
                Assert.False(space.IsEmpty, "a read must always be offered some space");
                int count = Math.Min(Math.Min(reads[i % reads.Length], space.Length), stream.Length - sent);
                stream.AsSpan(sent, count).CopyTo(space.Span);
                sent += count;
                buffer.Received(count);

                ReadOnlyMemory<byte> unconsumed = buffer.Unconsumed;
                int consumed = 0;
                while (FrameReader.TryReadFrame(unconsumed.Span[consumed..], MaxFrameSize, out int length))
                {
                    received.Add(unconsumed.Slice(consumed + FrameReader.HeaderSize, length).ToArray());
                    consumed += FrameReader.HeaderSize + length;
                }

                buffer.Consume(consumed);
            }

            Assert.Equal(bodies.Length, received.Count);
            for (int i = 0; i < bodies.Length; i++)
            {
                Assert.Equal(Body(i, bodies[i]), received[i]);
            }

            Assert.True(buffer.Unconsumed.IsEmpty);
            buffer.Release();
        }, iterations: 300);
    }

    private static byte[] Frames(int[] bodies)
    {
        var stream = new List<byte>();
        for (int i = 0; i < bodies.Length; i++)
        {
            byte[] prefix = new byte[FrameReader.HeaderSize];
            BinaryPrimitives.WriteInt32BigEndian(prefix, bodies[i]);
            stream.AddRange(prefix);
            stream.AddRange(Body(i, bodies[i]));
        }

        return [.. stream];
    }

    private static byte[] Body(int index, int length) => [.. Enumerable.Range(0, length).Select(j => (byte)(index * 31 + j))];
}
