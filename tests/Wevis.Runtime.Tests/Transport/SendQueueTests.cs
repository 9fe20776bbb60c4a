using Wevis.Tests.Shared;
using Wevis.Transport;

namespace Wevis.Runtime.Tests.Transport;

/// <summary>A send queue's locking, and what it costs when one frame goes to many connections within one dispatch batch (a broadcast).</summary>
public class SendQueueTests
{
    [Fact]
    public async Task ASendDoesNotWaitForAWriteUnderWayOnAnotherThread()
    {
        // A broadcast in its room's turn queues a frame for each recipient; one of them may be writing to its socket
        // on another thread right then (its own flush). The frame must be queued without waiting for that write.
        using var stream = new HeldWriteStream();
        var queue = new SendQueue(stream, socket: null, MessageRegistry.Empty, new ConnectionLimits(1024, 1 << 20), new object(), reason => Assert.Fail(reason));
        queue.Start();
        byte[] first = [0, 0, 0, 1, 0xA1];
        byte[] second = [0, 0, 0, 1, 0xA2];

        // Outside any batch a send flushes at once: this one writes on its own thread, and the write is held.
        Task firstSend = Task.Factory.StartNew(() => Assert.True(queue.TrySendFrame(first)), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        await stream.WriteStarted.Within();

        Task secondSend = Task.Factory.StartNew(() => Assert.True(queue.TrySendFrame(second)), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        await secondSend.Within(); // a socket write made under the queue's lock would keep it waiting for the held write, which never ends
        Assert.False(firstSend.IsCompleted, "the first write was let go too early");

        stream.Release();
        await firstSend.Within();
        queue.Complete(farewell: null);
        await queue.Completion.Within();
        Assert.Equal([.. first, .. second], stream.Written);
    }

    [Fact]
    public async Task ABroadcastToManyConnectionsInABatchAllocatesNoBufferPerRecipient()
    {
        // More recipients than the shared array pool keeps arrays of a size: each holds a block until the batch's
        // flush, so a pool that drops what it cannot keep allocates a block per recipient per batch.
        const int Recipients = 1_000;
        const int Batches = 20;
        object group = new();
        SendQueue[] queues = [.. Enumerable.Range(0, Recipients).Select(_ => new SendQueue(
            Stream.Null, socket: null, MessageRegistry.Empty, new ConnectionLimits(1024, 1 << 20), group, reason => Assert.Fail(reason)))];
        foreach (SendQueue queue in queues)
        {
            queue.Start();
        }

        byte[] frame = [0, 0, 0, 4, 0x93, 1, 2, 3];
        var batch = new FlushBatch(group);
        void Broadcast()
        {
            using (batch.Enter())
            {
                foreach (SendQueue queue in queues)
                {
                    Assert.True(queue.TrySendFrame(frame));
                }
            }

            batch.FlushAll();
        }

        Broadcast(); // the first batch fills the pool and the lists
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Batches; i++)
        {
            Broadcast();
        }

        // No block (4 KiB or more) per recipient: what is left is small (none in Release; in Debug, the sends'
        // async state machines are classes, a few hundred bytes per write).
        long perDelivery = (GC.GetAllocatedBytesForCurrentThread() - before) / (Recipients * Batches);
        Assert.True(perDelivery < 1024, $"{perDelivery} bytes allocated per recipient per frame");

        // Everything was written (the sends ran inline on the flushing threads: a flush this large hands half
        // of its queues to a thread-pool thread, so wait for that half), and every block went back.
        Assert.True(SpinWait.SpinUntil(() => queues.All(q => q.QueuedBytes == 0), TimeSpan.FromSeconds(10)), "a queue kept bytes queued");
        foreach (SendQueue queue in queues)
        {
            queue.Complete(farewell: null);
            await queue.Completion.WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    /// <summary>A stream whose first write blocks its thread until released, as a socket write does while the kernel's buffer is full.</summary>
    private sealed class HeldWriteStream : RecordingStream
    {
        private readonly ManualResetEventSlim _released = new();
        private readonly TaskCompletionSource _writeStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task WriteStarted => _writeStarted.Task;

        public void Release() => _released.Set();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _writeStarted.TrySetResult();
            if (!_released.Wait(Bounded.DefaultTimeout * 3))
            {
                throw new TimeoutException("The held write was never released.");
            }

            return base.WriteAsync(buffer, cancellationToken);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _released.Set();
                _released.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
