using Wevis.Transport;

namespace Wevis.Runtime.Tests.Transport;

/// <summary>What a send queue costs when one frame goes to many connections within one dispatch batch (a broadcast).</summary>
public class SendQueueTests
{
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

        // No block (4 KiB or more) per recipient: what is left is small (none in Release; in Debug, the send loop's
        // async state machines are classes, a few hundred bytes per write).
        long perDelivery = (GC.GetAllocatedBytesForCurrentThread() - before) / (Recipients * Batches);
        Assert.True(perDelivery < 1024, $"{perDelivery} bytes allocated per recipient per frame");

        // Everything was written (the send loops ran inline on the flushing threads: a flush this large hands half
        // of its queues to a thread-pool thread, so wait for that half), and every block went back.
        Assert.True(SpinWait.SpinUntil(() => queues.All(q => q.QueuedBytes == 0), TimeSpan.FromSeconds(10)), "a queue kept bytes queued");
        foreach (SendQueue queue in queues)
        {
            queue.Complete(farewell: null);
            await queue.Completion.WaitAsync(TimeSpan.FromSeconds(10));
        }
    }
}
