namespace Wevis.Rooms;

/// <summary>
/// A lock for one holder at a time, awaited asynchronously. Taking a free gate and giving it back are one atomic
/// operation each. Giving it back frees it at once and wakes the longest waiter, which then takes it unless a thread
/// already running took it first (it may "barge", as <see cref="Monitor"/> allows); a waiter that loses so goes back to
/// the front of the line.
/// </summary>
/// <remarks>
/// Why the gate is not handed to the waiter (as a <see cref="SemaphoreSlim"/> hands its count to its first async
/// waiter): the waiter's continuation runs on the thread pool, and until a thread is free to run it the gate would
/// stay taken with nobody in it, while every thread that arrived meanwhile queued up behind it. With a room's 100 users
/// on two cores that convoy took a thread-pool hop, a wake and a handful of allocations for one round trip in twenty.
/// </remarks>
internal sealed class AsyncGate
{
    private readonly Lock _lock = new();
    private TaskCompletionSource?[] _line = new TaskCompletionSource?[4]; // a ring: a power of two, so positions wrap with a mask
    private int _first;
    private int _count;
    private int _held;
    private int _waiting; // waiters in line, and those about to join it: an exit that sees none wakes nobody

    /// <summary>How many wait for the gate (a woken one that has not yet tried for it again is not counted).</summary>
    public int Waiters => Volatile.Read(ref _waiting);

    /// <summary>Whether anyone waits for the gate.</summary>
    public bool HasWaiters => Waiters > 0;

    /// <summary>Takes the gate if it is free, without waiting.</summary>
    public bool TryEnter() => Volatile.Read(ref _held) == 0 && Interlocked.CompareExchange(ref _held, 1, 0) == 0;

    /// <summary>Takes the gate, waiting for it if it is taken.</summary>
    public ValueTask EnterAsync() => TryEnter() ? ValueTask.CompletedTask : WaitAsync();

    /// <summary>Gives the gate back, and wakes the longest waiter, if any.</summary>
    public void Exit()
    {
        // A full fence: a waiter counted before this read sees the gate free when it tries again, or is woken here.
        Interlocked.Exchange(ref _held, 0);
        if (Volatile.Read(ref _waiting) == 0)
        {
            return;
        }

        TaskCompletionSource? next;
        lock (_lock)
        {
            next = TakeFirstLocked();
        }

        next?.TrySetResult();
    }

    private async ValueTask WaitAsync()
    {
        bool woken = false;
        while (true)
        {
            TaskCompletionSource wake;
            lock (_lock)
            {
                Interlocked.Increment(ref _waiting);
                if (TryEnter())
                {
                    Interlocked.Decrement(ref _waiting);
                    return;
                }

                // Continuations run on the thread pool: the exit that wakes this waiter goes on at once.
                wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                JoinLocked(wake, atFront: woken);
            }

            await wake.Task.ConfigureAwait(false);
            woken = true;
            if (TryEnter())
            {
                return;
            }
        }
    }

    private void JoinLocked(TaskCompletionSource waiter, bool atFront)
    {
        if (_count == _line.Length)
        {
            var longer = new TaskCompletionSource?[_line.Length * 2];
            for (int i = 0; i < _count; i++)
            {
                longer[i] = _line[(_first + i) & (_line.Length - 1)];
            }

            _line = longer;
            _first = 0;
        }

        int mask = _line.Length - 1;
        if (atFront)
        {
            _first = (_first - 1) & mask;
            _line[_first] = waiter;
        }
        else
        {
            _line[(_first + _count) & mask] = waiter;
        }

        _count++;
    }

    private TaskCompletionSource? TakeFirstLocked()
    {
        if (_count == 0)
        {
            // Counted but not in line yet: it tries for the gate again before it joins, under this lock.
            return null;
        }

        TaskCompletionSource waiter = _line[_first]!;
        _line[_first] = null;
        _first = (_first + 1) & (_line.Length - 1);
        _count--;
        Interlocked.Decrement(ref _waiting);
        return waiter;
    }
}
