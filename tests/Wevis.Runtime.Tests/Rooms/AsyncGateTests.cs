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
        Assert.False(gate.TryEnter()); // the waiter holds it now

        gate.Exit();
        Assert.True(gate.TryEnter());
    }

    [Fact]
    public async Task WaitersAreWokenInTheOrderTheyBeganWaiting()
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

        gate.Exit();
        await Task.WhenAll(waiters).Within();

        Assert.Equal([0, 1, 2, 3, 4], served);
        Assert.True(gate.TryEnter());
    }

    [Fact]
    public async Task AWokenWaiterThatFindsTheGateTakenAgainIsNextInLine()
    {
        // Giving the gate back frees it at once: a thread already running may take it before the woken waiter runs
        // (its continuation is on its way to a thread-pool thread). That race is the woken waiter's to win now and
        // then, so the scenario is tried until this thread barges in, as it nearly always does at once.
        for (int attempt = 0; attempt < 50; attempt++)
        {
            var gate = new AsyncGate();
            await gate.EnterAsync();
            List<string> served = [];
            Task first = Serve(gate, served, "first");
            Task second = Serve(gate, served, "second");

            gate.Exit();
            if (!gate.TryEnter())
            {
                // The woken waiter won: nothing to see this time.
                await Task.WhenAll(first, second).Within();
                continue;
            }

            served.Add("barger");

            // The woken waiter tries again, finds the gate taken, and goes back to the front: both wait again.
            Assert.True(SpinWait.SpinUntil(() => gate.Waiters == 2, Bounded.DefaultTimeout), "the woken waiter did not go back in line");
            gate.Exit();
            await Task.WhenAll(first, second).Within();

            Assert.Equal(["barger", "first", "second"], served);
            return;
        }

        Assert.Fail("this thread never took the gate before the woken waiter");

        static async Task Serve(AsyncGate gate, List<string> served, string name)
        {
            await gate.EnterAsync();
            served.Add(name); // only the holder adds
            gate.Exit();
        }
    }

    [Fact]
    public async Task ManyThreadsNeverHoldTheGateTogetherAndNoneIsLeftWaiting()
    {
        var gate = new AsyncGate();
        int inside = 0;
        int most = 0;
        int entries = 0;
        Task[] workers = [.. Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            for (int i = 0; i < 2_000; i++)
            {
                if (i % 2 == 0 || !gate.TryEnter())
                {
                    await gate.EnterAsync();
                }

                int now = Interlocked.Increment(ref inside);
                InterlockedMax(ref most, now);
                entries++; // safe: only the holder counts
                Interlocked.Decrement(ref inside);
                gate.Exit();
            }
        }))];

        await Task.WhenAll(workers).Within();

        Assert.Equal(1, most);
        Assert.Equal(16_000, entries);
        Assert.True(gate.TryEnter(), "the gate was left held");
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen = Volatile.Read(ref target);
        while (value > seen)
        {
            int previous = Interlocked.CompareExchange(ref target, value, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }
}
