using Wevis.Tests.Shared;
using Wevis.Transport;

namespace Wevis.Runtime.Tests.Transport;

/// <summary>
/// Fan-outs (batches that wrote to several connections) made one after another on a thread-pool thread share each
/// connection's socket write: their flushes wait for the end of the thread's work item, or for enough batches.
/// </summary>
public class FanOutFlushesTests
{
    private static readonly byte[] Frame = [0, 0, 0, 1, 0xA1];

    [Fact]
    public async Task FanOutsOnAThreadPoolThreadAreFlushedTogetherWhenItsWorkItemEnds()
    {
        // Fewer fan-outs than flush held ones early. An idle thread may take the flush's work item before this one
        // ends (it often does here, where the pool's other threads have nothing else to do), and flush what is held
        // so far; but not after every fan-out, as each fan-out flushed before.
        const int FanOuts = 12;
        object group = new();
        (SendQueue Queue, RecordingStream Stream)[] connections = NewConnections(group, 3);
        var batch = new FlushBatch(group);
        var flushesDuringWorkItem = new TaskCompletionSource<long[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        ThreadPool.UnsafeQueueUserWorkItem(
            _ =>
            {
                for (int i = 0; i < FanOuts; i++)
                {
                    FanOut(batch, connections);
                }

                flushesDuringWorkItem.SetResult([.. connections.Select(c => c.Queue.FlushCount)]);
            },
            null);

        long[] flushes = await flushesDuringWorkItem.Task.Within();
        Assert.All(flushes, count => Assert.True(count < FanOuts, $"{count} flushes for {FanOuts} fan-outs"));

        // Then everything goes out, in order, once the work item has ended.
        foreach ((SendQueue queue, RecordingStream stream) in connections)
        {
            queue.Complete(farewell: null);
            await queue.Completion.Within();
            Assert.Equal(Enumerable.Repeat(Frame, FanOuts).SelectMany(frame => frame), stream.Written);
            Assert.True(stream.Writes < FanOuts, $"{stream.Writes} writes for {FanOuts} fan-outs");
        }
    }

    [Fact]
    public async Task HeldFlushesGoOutWhenTheWorkItemRuns()
    {
        var (flushes, scheduled, group, connections) = HoldOneFanOut();
        QueueInBatch(group, connections); // not listed again: the queues wait for the held flush
        flushes.CountBatch();

        Assert.Single(scheduled);
        Assert.All(connections, c => Assert.Equal(0, c.Queue.FlushCount));

        scheduled[0].Execute();
        foreach ((SendQueue queue, RecordingStream stream) in connections)
        {
            Assert.Equal(1, queue.FlushCount);
            queue.Complete(farewell: null);
            await queue.Completion.Within();
            Assert.Equal([.. Frame, .. Frame], stream.Written);
        }
    }

    [Fact]
    public void HeldFlushesGoOutOnceEnoughBatchesHaveEndedOnTheThread()
    {
        // A receive loop that always finds more to read never ends its work item: what its fan-outs hold is flushed
        // after a bounded number of batches all the same.
        var (flushes, scheduled, _, connections) = HoldOneFanOut();
        for (int i = 1; i < FanOutFlushes.MaxHeldBatches - 1; i++)
        {
            flushes.CountBatch();
        }

        Assert.All(connections, c => Assert.Equal(0, c.Queue.FlushCount));

        flushes.CountBatch();
        Assert.All(connections, c => Assert.Equal(1, c.Queue.FlushCount));

        // The work item scheduled for them finds nothing left to flush.
        scheduled[0].Execute();
        Assert.All(connections, c => Assert.Equal(1, c.Queue.FlushCount));
    }

    /// <summary>
    /// Two connections with a frame each waiting for a flush, held by a <see cref="FanOutFlushes"/> whose work item is
    /// only recorded when it is scheduled, for the test to run when it chooses.
    /// </summary>
    private static (FanOutFlushes Flushes, List<FanOutFlushes> Scheduled, object Group, (SendQueue Queue, RecordingStream Stream)[] Connections) HoldOneFanOut()
    {
        object group = new();
        (SendQueue Queue, RecordingStream Stream)[] connections = NewConnections(group, 2);
        var scheduled = new List<FanOutFlushes>();
        var flushes = new FanOutFlushes(scheduled.Add);
        QueueInBatch(group, connections);
        flushes.Hold([.. connections.Select(c => c.Queue)], 2);
        return (flushes, scheduled, group, connections);
    }

    private static (SendQueue Queue, RecordingStream Stream)[] NewConnections(object group, int count) =>
        [.. Enumerable.Range(0, count).Select(_ =>
        {
            var stream = new RecordingStream();
            var queue = new SendQueue(stream, socket: null, MessageRegistry.Empty, new ConnectionLimits(1024, 1 << 20), group, reason => Assert.Fail(reason));
            queue.Start();
            return (queue, stream);
        })];

    /// <summary>One frame to each connection within a batch, and the batch's flush: what a broadcast in a room does.</summary>
    private static void FanOut(FlushBatch batch, (SendQueue Queue, RecordingStream Stream)[] connections)
    {
        using (batch.Enter())
        {
            foreach ((SendQueue queue, _) in connections)
            {
                Assert.True(queue.TrySendFrame(Frame));
            }
        }

        batch.FlushAll();
    }

    /// <summary>One frame to each connection within a batch that is never flushed: the queues wait for a flush.</summary>
    private static void QueueInBatch(object group, (SendQueue Queue, RecordingStream Stream)[] connections)
    {
        var batch = new FlushBatch(group);
        using (batch.Enter())
        {
            foreach ((SendQueue queue, _) in connections)
            {
                Assert.True(queue.TrySendFrame(Frame));
            }
        }
    }
}
