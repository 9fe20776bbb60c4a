namespace Wevis.Transport;

/// <summary>
/// Holds the flushes of fan-outs (a <see cref="FlushBatch"/> that wrote to two connections or more) made on a
/// thread-pool thread until the work item running there ends, so that the fan-outs it makes one after another write
/// each connection's frames together, in one socket write, instead of one write per fan-out.
/// </summary>
/// <remarks>
/// <para>Why: in small rooms every member's message goes to every member. The socket engine hands one thread the
/// reads of many connections in one work item, so the next few messages that thread handles are often from the
/// same rooms, for the same recipients. Flushed one fan-out at a time, a room of four made four writes to each
/// member per round of messages (a system call each, and a read each on the member's side); held to the end of
/// the work item, one. A reply (a batch that wrote to one connection) is not held: its peer is waiting for it, and
/// no other fan-out is likely to add to it.</para>
/// <para>The flush runs as a work item queued to this thread's own queue, which the thread takes next, when its
/// current work item ends (or an idle thread takes it sooner), so nothing waits longer than that work item runs,
/// and once <see cref="MaxHeldBatches"/> batches have ended on the thread meanwhile (fan-outs or not), the held ones
/// are flushed at once: a receive loop that always finds more to read keeps its work item running. (A queue held
/// here takes more frames without being listed again, and flushes itself after
/// <see cref="SendQueue.FlushEveryFrames"/> of them, as in one long batch.)</para>
/// <para>One per thread-pool thread. The work item may run on another thread than the one that held the flushes,
/// so what is held is kept under a lock.</para>
/// </remarks>
internal sealed class FanOutFlushes : IThreadPoolWorkItem
{
    /// <summary>
    /// Once this many batches have ended on the thread while fan-outs' flushes are held there, the held ones are flushed
    /// without waiting for the work item's end (16 against 64 or no bound made no difference measured in rooms of four;
    /// 4 was slower).
    /// </summary>
    internal const int MaxHeldBatches = 16;

    [ThreadStatic]
    private static FanOutFlushes? t_thread;

    private readonly Action<FanOutFlushes> _schedule;
    private readonly Lock _lock = new();
    private List<SendQueue> _held = [];
    private List<SendQueue>? _spare = []; // the list last flushed, reused
    private int _heldBatches;
    private int _heldCount; // _held.Count, read without the lock
    private bool _scheduled;

    /// <param name="schedule">Runs <see cref="Execute"/> later; tests pass their own to run it when they choose.</param>
    internal FanOutFlushes(Action<FanOutFlushes> schedule) => _schedule = schedule;

    /// <summary>
    /// Holds the flushes of the first <paramref name="count"/> queues of <paramref name="queues"/> until the current
    /// work item ends, if this is a thread-pool thread; false if not (the caller flushes them now: on a thread of its
    /// own, such as a test's, nothing would run the held flushes when its work is done).
    /// </summary>
    public static bool TryHold(List<SendQueue> queues, int count)
    {
        if (!Thread.CurrentThread.IsThreadPoolThread)
        {
            return false;
        }

        (t_thread ??= new FanOutFlushes(static flushes => ThreadPool.UnsafeQueueUserWorkItem(flushes, preferLocal: true)))
            .Hold(queues, count);
        return true;
    }

    /// <summary>
    /// Counts a batch that ended on this thread without holding its flushes (it flushed at once, or had nothing to
    /// flush) while fan-outs' flushes are held here, flushing them once there have been enough.
    /// </summary>
    public static void BatchEnded()
    {
        if (t_thread is { } flushes && Volatile.Read(ref flushes._heldCount) != 0)
        {
            flushes.CountBatch();
        }
    }

    /// <summary>Holds the flushes of the first <paramref name="count"/> queues of <paramref name="queues"/>.</summary>
    internal void Hold(List<SendQueue> queues, int count)
    {
        bool flushNow;
        bool schedule;
        lock (_lock)
        {
            for (int i = 0; i < count; i++)
            {
                _held.Add(queues[i]);
            }

            Volatile.Write(ref _heldCount, _held.Count);
            _heldBatches++;
            flushNow = _heldBatches >= MaxHeldBatches;
            schedule = !flushNow && !_scheduled;
            _scheduled |= schedule;
        }

        if (flushNow)
        {
            // A scheduled work item still runs later, and finds what was held since (or nothing).
            FlushHeld();
        }
        else if (schedule)
        {
            _schedule(this);
        }
    }

    /// <summary>As <see cref="BatchEnded"/>, on this instance.</summary>
    internal void CountBatch()
    {
        bool flushNow;
        lock (_lock)
        {
            flushNow = _held.Count != 0 && ++_heldBatches >= MaxHeldBatches;
        }

        if (flushNow)
        {
            FlushHeld();
        }
    }

    /// <summary>Flushes everything held: the work item queued when the first of them was held.</summary>
    public void Execute()
    {
        lock (_lock)
        {
            _scheduled = false;
        }

        FlushHeld();
    }

    private void FlushHeld()
    {
        List<SendQueue> flushing;
        lock (_lock)
        {
            if (_held.Count == 0)
            {
                return;
            }

            // Take the list and leave another: what is held meanwhile waits for the next flush, not lost.
            flushing = _held;
            _held = _spare ?? [];
            _spare = null;
            _heldBatches = 0;
            Volatile.Write(ref _heldCount, 0);
        }

        foreach (SendQueue queue in flushing)
        {
            queue.Flush();
        }

        flushing.Clear();
        lock (_lock)
        {
            _spare ??= flushing;
        }
    }
}
