using Example;

namespace Wevis.Runtime.Tests.Networking;

/// <summary>The client's inbox: order, one wake per batch, cancellation, and completion after what was queued.</summary>
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
        await receiving.Within();
    }

    [Fact]
    public async Task QueuedMessagesOutliveCompletionThenReceivesFail()
    {
        var inbox = new MessageInbox();
        inbox.EnqueueRange([.. s_messages]);
        inbox.Complete(new ConnectionClosedException("gone"));

        Assert.Equal(s_messages[0], await inbox.DequeueAsync(CancellationToken.None).Within());
        Assert.True(inbox.TryDequeue(out IMessage? second));
        Assert.Equal(s_messages[1], second);
        Assert.Equal(s_messages[2], await inbox.DequeueAsync(CancellationToken.None).Within());
        Assert.False(inbox.TryDequeue(out _));
        ConnectionClosedException ex = await Assert.ThrowsAsync<ConnectionClosedException>(async () => await inbox.DequeueAsync(CancellationToken.None)).Within();
        Assert.Equal("gone", ex.Reason);
    }

    [Fact]
    public async Task CompletionWakesAWaitingReceiver()
    {
        var inbox = new MessageInbox();
        ValueTask<IMessage> waiting = inbox.DequeueAsync(CancellationToken.None);

        inbox.Complete(new ConnectionClosedException("gone"));

        await Assert.ThrowsAsync<ConnectionClosedException>(async () => await waiting).Within();
    }

    [Fact]
    public async Task AWaitCanBeCancelledAndTheInboxStillWorksAfterwards()
    {
        var inbox = new MessageInbox();
        using var cancel = new CancellationTokenSource();
        ValueTask<IMessage> waiting = inbox.DequeueAsync(cancel.Token);

        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await waiting).Within();
        ValueTask<IMessage> next = inbox.DequeueAsync(CancellationToken.None);
        inbox.EnqueueRange([s_messages[0]]);
        Assert.Equal(s_messages[0], await next.Within());
    }

    [Fact]
    public void OnlyOneReceiveMayWaitAtATime()
    {
        var inbox = new MessageInbox();
        _ = inbox.DequeueAsync(CancellationToken.None);

        Assert.Throws<InvalidOperationException>(() => inbox.DequeueAsync(CancellationToken.None));
    }
}
