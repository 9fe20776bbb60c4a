using System.Net;
using System.Net.Sockets;
using Wevis.Runtime.Tests.Messages;
using Wevis.Serialization;
using Wevis.Transport;

namespace Wevis.Runtime.Tests.Transport;

/// <summary>
/// Flushing during a dispatch batch: sends are held until the batch ends, except that a long batch flushes
/// early, so the peer can start on the first replies while the rest are still being made.
/// </summary>
public class FlushBatchTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task SendsInABatchWaitForItsEnd()
    {
        await using var pair = await ConnectedPair.CreateAsync();
        var batch = new FlushBatch(pair.FlushGroup);
        using (batch.Enter())
        {
            for (int i = 0; i < 10; i++)
            {
                Assert.True(pair.Connection.TrySend(new Numbered(i)));
            }
        }

        // Nothing is written until the batch flushes.
        Assert.Equal(0, await pair.ReceiveAvailableAsync(TimeSpan.FromMilliseconds(200)));

        batch.FlushAll();
        Assert.Equal(10 * NumberedFrameSize(0), await pair.ReceiveExactlyAsync(10 * NumberedFrameSize(0)));
    }

    [Fact]
    public async Task ALongBatchFlushesEveryFewHundredFramesBeforeItEnds()
    {
        await using var pair = await ConnectedPair.CreateAsync();
        var batch = new FlushBatch(pair.FlushGroup);
        int frames = SendQueue.FlushEveryFrames + 10;
        using (batch.Enter())
        {
            for (int i = 0; i < frames; i++)
            {
                // Small sequence numbers, so every frame has the same size.
                Assert.True(pair.Connection.TrySend(new Numbered(i % 100)));
            }
        }

        // The first FlushEveryFrames frames went out while the batch was still open; the last 10 wait for its end.
        int early = SendQueue.FlushEveryFrames * NumberedFrameSize(0);
        Assert.Equal(early, await pair.ReceiveExactlyAsync(early));
        Assert.Equal(0, await pair.ReceiveAvailableAsync(TimeSpan.FromMilliseconds(200)));

        batch.FlushAll();
        Assert.Equal(10 * NumberedFrameSize(0), await pair.ReceiveExactlyAsync(10 * NumberedFrameSize(0)));
    }

    [Fact]
    public async Task ALongBatchOfLargeFramesFlushesByBytes()
    {
        await using var pair = await ConnectedPair.CreateAsync();
        var batch = new FlushBatch(pair.FlushGroup);
        var big = new Explode(new string('x', 10_000));
        int frameSize = MessageSerializer.ToBytes(big).Length + FrameReader.HeaderSize;
        int framesPerFlush = (SendQueue.FlushEveryBytes + frameSize - 1) / frameSize;
        using (batch.Enter())
        {
            for (int i = 0; i < framesPerFlush + 1; i++)
            {
                Assert.True(pair.Connection.TrySend(big));
            }
        }

        Assert.Equal(framesPerFlush * frameSize, await pair.ReceiveExactlyAsync(framesPerFlush * frameSize));
        Assert.Equal(0, await pair.ReceiveAvailableAsync(TimeSpan.FromMilliseconds(200)));

        batch.FlushAll();
        Assert.Equal(frameSize, await pair.ReceiveExactlyAsync(frameSize));
    }

    [Fact]
    public async Task ABatchUsedOnTwoThreadsAtOnceFlushesEverythingItWasGiven()
    {
        // A user's batch serves their receive loop and, when room code moves them, the thread-pool thread that
        // finishes the move: both send through it and flush it at the same time.
        object group = new();
        await using var first = await ConnectedPair.CreateAsync(group);
        await using var second = await ConnectedPair.CreateAsync(group);
        var batch = new FlushBatch(group);
        const int Rounds = 20_000;
        int frame = NumberedFrameSize(0);
        Task<int> firstReceived = first.ReceiveExactlyAsync(Rounds * frame);
        Task<int> secondReceived = second.ReceiveExactlyAsync(Rounds * frame);

        Task SendAndFlush(ConnectedPair pair) => Task.Run(() =>
        {
            for (int i = 0; i < Rounds; i++)
            {
                using (batch.Enter())
                {
                    Assert.True(pair.Connection.TrySend(new Numbered(0)));
                }

                batch.FlushAll();
            }
        });
        await Task.WhenAll(SendAndFlush(first), SendAndFlush(second)).WaitAsync(Wait);

        // Every frame went out: none was left waiting for a flush that a lost entry in the batch never gave it.
        Assert.Equal(Rounds * frame, await firstReceived);
        Assert.Equal(Rounds * frame, await secondReceived);
    }

    [Fact]
    public async Task AFlushOfManyConnectionsIsSplitAcrossTwoThreadsAndEachStillGetsEveryFrameInOrder()
    {
        // From SplitFlushAt connections on, half of a flush goes out on a thread-pool thread (a broadcast's sends
        // from two threads); each connection must still get each batch's frames, in the order they were sent.
        object group = new();
        int connections = FlushBatch.SplitFlushAt + 8;
        var pairs = new ConnectedPair[connections];
        for (int i = 0; i < connections; i++)
        {
            pairs[i] = await ConnectedPair.CreateAsync(group);
        }

        try
        {
            const int Rounds = 50;
            byte[] expected = [.. Enumerable.Range(0, Rounds).SelectMany(n => Frame(new Numbered(n)))];
            Task<byte[]>[] received = [.. pairs.Select(pair => pair.ReceiveBytesAsync(expected.Length))];
            var batch = new FlushBatch(group);
            for (int round = 0; round < Rounds; round++)
            {
                using (batch.Enter())
                {
                    foreach (ConnectedPair pair in pairs)
                    {
                        Assert.True(pair.Connection.TrySend(new Numbered(round)));
                    }
                }

                batch.FlushAll();
            }

            for (int i = 0; i < connections; i++)
            {
                Assert.Equal(expected, await received[i]);
            }
        }
        finally
        {
            foreach (ConnectedPair pair in pairs)
            {
                await pair.DisposeAsync();
            }
        }
    }

    private static byte[] Frame(IMessage message)
    {
        byte[] body = MessageSerializer.ToBytes(message);
        byte[] frame = new byte[FrameReader.HeaderSize + body.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(frame, body.Length);
        body.CopyTo(frame, FrameReader.HeaderSize);
        return frame;
    }

    private static int NumberedFrameSize(int sequence) =>
        MessageSerializer.ToBytes(new Numbered(sequence)).Length + FrameReader.HeaderSize;

    /// <summary>A <see cref="MessageConnection"/> on one end of a loopback TCP connection, and a plain socket on the other.</summary>
    private sealed class ConnectedPair : IAsyncDisposable
    {
        private readonly Socket _peer;
        private readonly byte[] _scratch = new byte[256 * 1024];

        private ConnectedPair(MessageConnection connection, Socket peer, object flushGroup)
        {
            Connection = connection;
            _peer = peer;
            FlushGroup = flushGroup;
        }

        public MessageConnection Connection { get; }

        /// <summary>The group the connection's flushes belong to: a batch of this group defers them.</summary>
        public object FlushGroup { get; }

        public static async Task<ConnectedPair> CreateAsync(object? flushGroup = null)
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(1);
            var peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await peer.ConnectAsync(listener.LocalEndPoint!);
            Socket accepted = await listener.AcceptAsync();
            flushGroup ??= new object();
            var connection = new MessageConnection(
                new NetworkStream(accepted, ownsSocket: false),
                accepted,
                WevisRegistry.Messages,
                new ConnectionLimits(MaxFrameSize: 1024 * 1024, MaxQueuedBytes: 16 * 1024 * 1024),
                flushGroup,
                TimeProvider.System);
            connection.Start();
            return new ConnectedPair(connection, peer, flushGroup);
        }

        /// <summary>Reads exactly <paramref name="count"/> bytes (failing after a while), and returns how many arrived.</summary>
        public async Task<int> ReceiveExactlyAsync(int count)
        {
            using var timeout = new CancellationTokenSource(Wait);
            int received = 0;
            while (received < count)
            {
                int read = await _peer.ReceiveAsync(_scratch.AsMemory(0, Math.Min(_scratch.Length, count - received)), SocketFlags.None, timeout.Token);
                if (read == 0)
                {
                    break;
                }

                received += read;
            }

            return received;
        }

        /// <summary>Reads exactly <paramref name="count"/> bytes (failing after a while) and returns them.</summary>
        public async Task<byte[]> ReceiveBytesAsync(int count)
        {
            using var timeout = new CancellationTokenSource(Wait);
            byte[] bytes = new byte[count];
            int received = 0;
            while (received < count)
            {
                int read = await _peer.ReceiveAsync(bytes.AsMemory(received), SocketFlags.None, timeout.Token);
                if (read == 0)
                {
                    break;
                }

                received += read;
            }

            return bytes[..received];
        }

        /// <summary>Reads whatever arrives within <paramref name="wait"/>.</summary>
        public async Task<int> ReceiveAvailableAsync(TimeSpan wait)
        {
            using var timeout = new CancellationTokenSource(wait);
            int received = 0;
            try
            {
                while (true)
                {
                    int read = await _peer.ReceiveAsync(_scratch, SocketFlags.None, timeout.Token);
                    if (read == 0)
                    {
                        return received;
                    }

                    received += read;
                }
            }
            catch (OperationCanceledException)
            {
                return received;
            }
        }

        public async ValueTask DisposeAsync()
        {
            Connection.Abort("the test ended");
            await Connection.DisposeAsync();
            _peer.Dispose();
        }
    }
}
