namespace Wevis.Rooms;

/// <summary>
/// A lock for one holder at a time, awaited asynchronously, whose uncontended enter and exit are one atomic operation
/// each: the count of the holder and its waiters is kept here, and a <see cref="SemaphoreSlim"/> is used only to
/// hand the gate over to a waiter, in the order they began waiting.
/// </summary>
/// <remarks>
/// Why not a <see cref="SemaphoreSlim"/>(1, 1) alone: its uncontended wait and release take its inner monitor twice
/// each, and a server round trip passes two gates (the user's, then the room's turn).
/// </remarks>
internal sealed class AsyncGate
{
    private readonly SemaphoreSlim _handOver = new(0, int.MaxValue);
    private int _count; // the holder, if any, and everyone waiting

    /// <summary>Whether anyone waits for the gate (besides its holder).</summary>
    public bool HasWaiters => Volatile.Read(ref _count) > 1;

    /// <summary>Takes the gate if nobody holds it or waits for it, without waiting.</summary>
    public bool TryEnter() => Interlocked.CompareExchange(ref _count, 1, 0) == 0;

    /// <summary>Takes the gate, after those already waiting for it.</summary>
    public ValueTask EnterAsync() =>
        Interlocked.Increment(ref _count) == 1 ? ValueTask.CompletedTask : new ValueTask(_handOver.WaitAsync());

    /// <summary>Gives the gate back: to the first waiter, if any.</summary>
    public void Exit()
    {
        if (Interlocked.Decrement(ref _count) != 0)
        {
            _handOver.Release();
        }
    }
}
