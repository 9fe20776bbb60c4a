using Wevis.Rooms;
using Wevis.Tests.Shared;

namespace Wevis.Runtime.Tests.Rooms;

/// <summary>The lock behind a room's turn and a user's gate: one holder, waiters served in the order they came, none lost.</summary>
public class AsyncGateTests
{
    [Fact]
    public async Task AFreeGateIsTakenAtOnceAndAHeldOneMakesOthersWait()
    {
        var gate = new AsyncGate();
        Assert.True(gate.EnterAsync().IsCompletedSuccessfully);
        Assert.False(gate.TryEnter());

        Task waiting = gate.EnterAsync().AsTask();
        Assert.False(waiting.IsCompleted);
        Assert.True(gate.HasWaiters);

        gate.Exit();
        await waiting.Within();
        Assert.False(gate.HasWaiters);
        Assert.False(gate.TryEnter()); // handed over to the waiter, not let go

        gate.Exit();
        Assert.True(gate.TryEnter());
    }

    [Fact]
    public async Task WaitersAreServedInTheOrderTheyBeganWaiting()
    {
        var gate = new AsyncGate();
        await gate.EnterAsync();
        List<int> served = [];
        Task[] waiters = [.. Enumerable.Range(0, 5).Select(async i =>
        {
            await gate.EnterAsync();
            served.Add(i);
            gate.Exit();
        })];

        // Nobody may jump the queue while it is handed along, not even a caller that does not wait.
        Assert.False(gate.TryEnter());
        gate.Exit();
        await Task.WhenAll(waiters).Within();

        Assert.Equal([0, 1, 2, 3, 4], served);
        Assert.True(gate.TryEnter());
    }

    [Fact]
    public async Task ManyThreadsNeverHoldTheGateTogetherAndNoneIsLeftWaiting()
    {
        var gate = new AsyncGate();
        int inside = 0;
        bool overlapped = false;
        int entries = 0;
        Task[] workers = [.. Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            for (int i = 0; i < 2_000; i++)
            {
                if (i % 2 == 0 || !gate.TryEnter())
                {
                    await gate.EnterAsync();
                }

                if (Interlocked.Increment(ref inside) > 1)
                {
                    overlapped = true;
                }

                entries++; // safe: only the holder counts
                Interlocked.Decrement(ref inside);
                gate.Exit();
            }
        }))];

        await Task.WhenAll(workers).Within();

        Assert.False(overlapped, "two held the gate at once");
        Assert.Equal(16_000, entries);
        Assert.True(gate.TryEnter(), "the gate was left held");
    }
}
