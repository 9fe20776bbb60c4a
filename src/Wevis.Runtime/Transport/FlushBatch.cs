namespace Wevis.Transport;

/// <summary>
/// Defers flushing: while a receive loop dispatches a batch of messages, what handlers send is only queued,
/// and each connection written to is flushed once when the batch (or its synchronous part) ends. This turns
/// a burst of replies into one socket write instead of one per message.
/// </summary>
/// <remarks>
/// <para>The batch is current only on the dispatching thread and only while handler code runs synchronously: a
/// handler that awaits and resumes elsewhere sends with an immediate flush, and the thread it left behind
/// does not carry the batch into unrelated work.</para>
/// <para>A batch defers only the connections of its own <see cref="Group"/>: a server's connections share one
/// group, and each client is a group of its own. Code that runs on one client's receive loop and sends on
/// another client must not have that send held back until the first client's batch ends: if it then waits for
/// the answer, the request would never leave.</para>
/// </remarks>
internal sealed class FlushBatch(object group)
{
    [ThreadStatic]
    private static FlushBatch? t_current;

    private readonly List<SendQueue> _dirty = [];

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

    /// <summary>Remembers a connection that has output waiting for this batch's flush.</summary>
    public void Add(SendQueue queue) => _dirty.Add(queue);

    /// <summary>Flushes every connection written to since the last flush.</summary>
    public void FlushAll()
    {
        if (_dirty.Count == 0)
        {
            return;
        }

        foreach (SendQueue queue in _dirty)
        {
            queue.Flush();
        }

        _dirty.Clear();
    }

    /// <summary>Restores the batch that was current before <see cref="Enter"/>.</summary>
    public readonly struct Scope(FlushBatch? previous) : IDisposable
    {
        public void Dispose() => t_current = previous;
    }
}
