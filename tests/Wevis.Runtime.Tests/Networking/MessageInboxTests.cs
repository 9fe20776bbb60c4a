using CsCheck;
using Example;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Messages;

namespace Wevis.Runtime.Tests.Networking;

/// <summary>
/// The client's inbox: order, one wake per batch, cancellation, completion after what was queued, and receives that
/// take only some message types and leave the others in order.
/// </summary>
public class MessageInboxTests
{
    private static readonly IMessage[] s_messages = [new ItIs(1, 0), new ItIs(2, 0), new ItIs(3, 0)];

    [Fact]
    public async Task AWaitingReceiverIsWokenOnceAndFindsTheRestOfTheBatchQueued()
    {
        var inbox = new MessageInbox();
        var received = new List<IMessage>();
        int wakes = 0;

        async Task ReceiveAll()
        {
            while (received.Count < 3)
            {
                ValueTask<IMessage> next = inbox.DequeueAsync(CancellationToken.None);
                if (!next.IsCompleted)
                {
                    wakes++;
                }

                received.Add(await next.ConfigureAwait(false)); // no context: continue where woken, as on the receive loop
            }
        }

        Task receiving = ReceiveAll();
        Assert.False(receiving.IsCompleted);

        inbox.EnqueueRange([.. s_messages]);

        // The receiver ran inline, on this thread, and took the whole batch before EnqueueRange returned.
        Assert.True(receiving.IsCompletedSuccessfully);
        Assert.Equal(s_messages, received);
        Assert.Equal(1, wakes);
        await receiving;
    }

    [Fact]
    public async Task QueuedMessagesOutliveCompletionThenReceivesFail()
    {
        var inbox = new MessageInbox();
        inbox.EnqueueRange([.. s_messages]);
        inbox.Complete(new ConnectionClosedException("gone"));

        Assert.Equal(s_messages[0], await inbox.DequeueAsync(CancellationToken.None));
        Assert.True(inbox.TryDequeue(out IMessage? second));
        Assert.Equal(s_messages[1], second);
        Assert.Equal(s_messages[2], await inbox.DequeueAsync(CancellationToken.None));
        Assert.False(inbox.TryDequeue(out _));
        ConnectionClosedException ex = await Assert.ThrowsAsync<ConnectionClosedException>(async () => await inbox.DequeueAsync(CancellationToken.None));
        Assert.Equal("gone", ex.Reason);
    }

    [Fact]
    public async Task CompletionWakesAWaitingReceiver()
    {
        var inbox = new MessageInbox();
        ValueTask<IMessage> waiting = inbox.DequeueAsync(CancellationToken.None);

        inbox.Complete(new ConnectionClosedException("gone"));

        await Assert.ThrowsAsync<ConnectionClosedException>(async () => await waiting);
    }

    [Fact]
    public async Task AWaitCanBeCancelledAndTheInboxStillWorksAfterwards()
    {
        var inbox = new MessageInbox();
        using var cancel = new CancellationTokenSource();
        ValueTask<IMessage> waiting = inbox.DequeueAsync(cancel.Token);

        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await waiting);
        ValueTask<IMessage> next = inbox.DequeueAsync(CancellationToken.None);
        inbox.EnqueueRange([s_messages[0]]);
        Assert.Equal(s_messages[0], await next);
    }

    [Fact]
    public void OnlyOneReceiveMayWaitAtATime()
    {
        var inbox = new MessageInbox();
        _ = inbox.DequeueAsync(CancellationToken.None);

        Assert.Throws<InvalidOperationException>(() => inbox.DequeueAsync(CancellationToken.None));
    }

    [Fact]
    public async Task AFilteredWaitIsWokenOnlyByAnAcceptedMessageAndTheOthersStayInOrder()
    {
        var inbox = new MessageInbox();
        var youAre = new YouAre("michael");
        ValueTask<IMessage> waiting = inbox.DequeueAsync(static m => m is YouAre, CancellationToken.None);

        inbox.EnqueueRange([s_messages[0], s_messages[1]]);
        Assert.False(waiting.IsCompleted);
        inbox.EnqueueRange([s_messages[2], youAre, new ItIs(4, 0)]);

        Assert.True(waiting.IsCompletedSuccessfully);
        Assert.Same(youAre, await waiting);
        Assert.Equal([.. s_messages, new ItIs(4, 0)], TakeAll(inbox));
    }

    [Fact]
    public async Task AFilteredReceiveTakesTheFirstAcceptedMessageAlreadyQueued()
    {
        var inbox = new MessageInbox();
        var first = new YouAre("first");
        var second = new YouAre("second");
        inbox.EnqueueRange([s_messages[0], first, s_messages[1], second, s_messages[2]]);

        Assert.Same(first, await inbox.DequeueAsync(static m => m is YouAre, CancellationToken.None));
        Assert.True(inbox.TryTake(static m => m is YouAre, out IMessage? taken));
        Assert.Same(second, taken);
        Assert.False(inbox.TryTake(static m => m is YouAre, out _));
        Assert.Equal(s_messages, TakeAll(inbox));
    }

    [Fact]
    public async Task ACancelledFilteredWaitLeavesItsFilterBehind()
    {
        var inbox = new MessageInbox();
        using var cancel = new CancellationTokenSource();
        ValueTask<IMessage> waiting = inbox.DequeueAsync(static m => m is YouAre, cancel.Token);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await waiting);

        // The next wait takes any message: the cancelled one's filter no longer applies.
        ValueTask<IMessage> next = inbox.DequeueAsync(CancellationToken.None);
        inbox.EnqueueRange([s_messages[0]]);
        Assert.Equal(s_messages[0], await next);
    }

    [Fact]
    public void TakingFromAnywhereKeepsTheRestInOrderAcrossWrapAroundAndGrowth()
    {
        // Operations against a list as the model: add n messages, take the front, or take the first accepted one.
        Gen<(int Kind, int Value)[]> operations = Gen.Select(Gen.Int[0, 2], Gen.Int[0, 40]).Array[1, 200];
        Property.Check(operations, ops =>
        {
            var queue = new MessageQueue();
            var model = new List<IMessage>();
            int next = 0;
            foreach ((int kind, int value) in ops)
            {
                switch (kind)
                {
                    case 0:
                        for (int i = 0; i < value; i++)
                        {
                            var message = new Numbered(next++);
                            queue.Enqueue(message);
                            model.Add(message);
                        }

                        break;
                    case 1:
                        Assert.Equal(model.Count > 0, queue.TryDequeue(out IMessage? front));
                        if (model.Count > 0)
                        {
                            Assert.Same(model[0], front);
                            model.RemoveAt(0);
                        }

                        break;
                    default:
                        int divisor = value + 2;
                        bool Accepts(IMessage m) => ((Numbered)m).Sequence % divisor == 0;
                        int index = model.FindIndex(Accepts);
                        Assert.Equal(index >= 0, queue.TryTakeFirst(Accepts, out IMessage? taken));
                        if (index >= 0)
                        {
                            Assert.Same(model[index], taken);
                            model.RemoveAt(index);
                        }

                        break;
                }

                Assert.Equal(model.Count, queue.Count);
            }

            var rest = new List<IMessage>();
            while (queue.TryDequeue(out IMessage? message))
            {
                rest.Add(message);
            }

            Assert.Equal(model, rest);
        });
    }

    [Fact]
    public void ThePlainReceivePathAllocatesNothingPerMessage()
    {
        var inbox = new MessageInbox();
        List<IMessage> batch = [.. Enumerable.Range(0, 100).Select(i => (IMessage)new Numbered(i))];
        for (int round = 0; round < 3; round++)
        {
            // Warm up: the queue grows to hold a batch once, and every path is compiled.
            inbox.EnqueueRange(batch);
            TakeAll(inbox, into: null);
            ValueTask<IMessage> waiting = inbox.DequeueAsync(CancellationToken.None);
            inbox.EnqueueRange(batch);
            Completed(waiting);
            TakeAll(inbox, into: null);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int round = 0; round < 100; round++)
        {
            ValueTask<IMessage> waiting = inbox.DequeueAsync(CancellationToken.None);
            inbox.EnqueueRange(batch);
            Completed(waiting);
            TakeAll(inbox, into: null);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    /// <summary>Takes the result of a receive that must have completed (as a receive loop's continuation would).</summary>
    private static IMessage Completed(ValueTask<IMessage> receive)
    {
        Assert.True(receive.IsCompletedSuccessfully);
        return receive.Result;
    }

    private static List<IMessage> TakeAll(MessageInbox inbox)
    {
        var taken = new List<IMessage>();
        TakeAll(inbox, taken);
        return taken;
    }

    private static void TakeAll(MessageInbox inbox, List<IMessage>? into)
    {
        while (inbox.TryDequeue(out IMessage? message))
        {
            into?.Add(message!);
        }
    }
}
