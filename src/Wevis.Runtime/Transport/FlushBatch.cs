namespace Wevis.Transport;

/// <summary>
/// Defers flushing: while a receive loop dispatches a batch of messages, what handlers send is only queued,
/// and each connection written to is flushed once when the batch (or its synchronous part) ends. This turns
/// a burst of replies into one socket write instead of one per message.
/// </summary>
/// <remarks>
/// The batch is current only on the dispatching thread and only while handler code runs synchronously: a
/// handler that awaits and resumes elsewhere sends with an immediate flush, and the thread it left behind
/// does not carry the batch into unrelated work.
/// </remarks>
internal sealed class FlushBatch
{
    [ThreadStatic]
    private static FlushBatch? t_current;

    private readonly List<MessageConnection> _dirty = [];

    /// <summary>The batch of the dispatch running synchronously on this thread, if any.</summary>
    public static FlushBatch? Current => t_current;

    /// <summary>Makes this batch current on this thread until the scope is disposed.</summary>
    public Scope Enter()
    {
        FlushBatch? previous = t_current;
        t_current = this;
        return new Scope(previous);
    }

    /// <summary>Remembers a connection that has output waiting for this batch's flush.</summary>
    public void Add(MessageConnection connection) => _dirty.Add(connection);

    /// <summary>Flushes every connection written to since the last flush.</summary>
    public void FlushAll()
    {
        if (_dirty.Count == 0)
        {
            return;
        }

        foreach (MessageConnection connection in _dirty)
        {
            connection.Flush();
        }

        _dirty.Clear();
    }

    /// <summary>Restores the batch that was current before <see cref="Enter"/>.</summary>
    public readonly struct Scope(FlushBatch? previous) : IDisposable
    {
        public void Dispose() => t_current = previous;
    }
}
