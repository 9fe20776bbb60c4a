namespace Wevis.Transport;

/// <summary>
/// Defers flushing: while a receive loop dispatches a batch of messages, what handlers send is only queued,
/// and each connection written to is flushed once when the batch (or its synchronous part) ends. This turns
/// a burst of replies into one socket write instead of one per message. A batch that wrote to several connections
/// (a fan-out) hands its flushes to <see cref="FanOutFlushes"/>, which holds them to the end of the thread's work item.
/// </summary>
/// <remarks>
/// <para>The batch is current only on the dispatching thread and only while handler code runs synchronously: a
/// handler that awaits and resumes elsewhere sends with an immediate flush, and the thread it left behind
/// does not carry the batch into unrelated work.</para>
/// <para>A batch may be used on two threads at once: a user's batch serves their receive loop, and also the thread-pool
/// thread that finishes a move room code started (and room code on a timer's thread that moves or closes them). So its
/// list is kept under a lock, and flushed outside it: a queue's own lock is taken before the batch's when a send adds
/// the queue, so holding the batch's lock while flushing a queue could deadlock.</para>
/// <para>A batch defers only the connections of its own <see cref="Group"/>: a server's connections share one
/// group, and each client is a group of its own. Code that runs on one client's receive loop and sends on
/// another client must not have that send held back until the first client's batch ends: if it then waits for
/// the answer, the request would never leave.</para>
/// </remarks>
internal sealed class FlushBatch(object group)
{
    [ThreadStatic]
    private static FlushBatch? t_current;

    /// <summary>A flush of this many connections or more hands half of them to another thread.</summary>
    internal const int SplitFlushAt = 64;

    private readonly Lock _lock = new();
    private readonly SplitFlush _helper = new();
    private List<SendQueue> _dirty = [];
    private List<SendQueue>? _spare = []; // the list last flushed, reused for the next

    /// <summary>The connections whose flushes this batch may defer: those created with the same group object.</summary>
    public object Group { get; } = group;

    /// <summary>The batch of the dispatch running synchronously on this thread, if any.</summary>
    public static FlushBatch? Current => t_current;

    /// <summary>The batch running on this thread if it defers flushes for <paramref name="group"/>, else null.</summary>
    public static FlushBatch? CurrentFor(object group)
    {
        FlushBatch? current = t_current;
        return current is not null && ReferenceEquals(current.Group, group) ? current : null;
    }

    /// <summary>Makes this batch current on this thread until the scope is disposed.</summary>
    public Scope Enter()
    {
        FlushBatch? previous = t_current;
        t_current = this;
        return new Scope(previous);
    }

    /// <summary>
    /// Runs <paramref name="code"/> with this batch current while it runs synchronously, so what it sends waits for
    /// the batch's flush; if it goes async, what it sent so far is flushed before it is awaited (the rest of it runs
    /// elsewhere and sends with immediate flushes).
    /// </summary>
    public ValueTask RunAsync<TState>(Func<TState, ValueTask> code, TState state)
    {
        ValueTask task;
        using (Enter())
        {
            task = code(state);
        }

        if (task.IsCompletedSuccessfully)
        {
            return ValueTask.CompletedTask;
        }

        FlushAll();
        return task;
    }

    /// <summary>Remembers a connection that has output waiting for this batch's flush.</summary>
    public void Add(SendQueue queue)
    {
        lock (_lock)
        {
            _dirty.Add(queue);
        }
    }

    /// <summary>
    /// Flushes every connection written to since the last flush: now if it is one connection (a reply), else (a
    /// fan-out) on a thread-pool thread when its current work item ends (<see cref="FanOutFlushes"/>).
    /// </summary>
    public void FlushAll()
    {
        List<SendQueue>? flushing = null;
        lock (_lock)
        {
            if (_dirty.Count != 0)
            {
                // Take the list and leave an empty one: what is added meanwhile waits for the next flush, not lost.
                flushing = _dirty;
                _dirty = _spare ?? [];
                _spare = null;
            }
        }

        if (flushing is null)
        {
            FanOutFlushes.BatchEnded();
            return;
        }

        int inline = flushing.Count;
        if (inline >= SplitFlushAt && _helper.TryTake(flushing, inline / 2))
        {
            inline -= inline / 2;
        }

        // A fan-out's flushes wait for the end of this thread's work item, where the fan-outs after it join them.
        if (inline < 2 || !FanOutFlushes.TryHold(flushing, inline))
        {
            for (int i = 0; i < inline; i++)
            {
                flushing[i].Flush();
            }

            FanOutFlushes.BatchEnded();
        }

        flushing.Clear();
        lock (_lock)
        {
            _spare ??= flushing;
        }
    }

    /// <summary>
    /// Flushes the second half of a large flush on a thread-pool thread, so a broadcast's sends go out from two
    /// threads: the thread doing them is preempted after many a send (the woken reader takes its core), and the
    /// other half need not wait for it. One at a time; while it is busy, flushes stay whole.
    /// </summary>
    private sealed class SplitFlush : IThreadPoolWorkItem
    {
        private SendQueue[] _queues = [];
        private int _count;
        private int _busy;

        /// <summary>Takes the last <paramref name="count"/> queues of <paramref name="flushing"/> to flush elsewhere, unless busy.</summary>
        public bool TryTake(List<SendQueue> flushing, int count)
        {
            if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
            {
                return false;
            }

            if (_queues.Length < count)
            {
                _queues = new SendQueue[Math.Max(count, _queues.Length * 2)];
            }

            flushing.CopyTo(flushing.Count - count, _queues, 0, count);
            _count = count;
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
            return true;
        }

        public void Execute()
        {
            for (int i = 0; i < _count; i++)
            {
                _queues[i].Flush();
                _queues[i] = null!;
            }

            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>Restores the batch that was current before <see cref="Enter"/>.</summary>
    public readonly struct Scope(FlushBatch? previous) : IDisposable
    {
        public void Dispose() => t_current = previous;
    }
}
