using System.Collections.Concurrent;
using Wevis.Sessions;

namespace Wevis;

/// <summary>
/// The server's open connections, logging in or logged in, each with the task that runs it. Counts come from the
/// same atomic step that adds or removes, so a log line's count is right however many connections close at once.
/// </summary>
internal sealed class OpenConnections
{
    private readonly ConcurrentDictionary<long, ServerSession> _sessions = new();
    private readonly ConcurrentDictionary<long, Task> _tasks = new();
    private int _count;
    private int _pendingLogins;

    /// <summary>How many are open.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>How many are open and not yet logged in.</summary>
    public int PendingLogins => Volatile.Read(ref _pendingLogins);

    public ICollection<ServerSession> Sessions => _sessions.Values;

    public ICollection<Task> Tasks => _tasks.Values;

    /// <summary>Counts a connection just accepted as logging in.</summary>
    public void AddPending() => Interlocked.Increment(ref _pendingLogins);

    /// <summary>A connection that was logging in has logged in, or has gone before it did.</summary>
    public void RemovePending() => Interlocked.Decrement(ref _pendingLogins);

    /// <summary>Tracks the task that runs connection <paramref name="id"/>, until it ends.</summary>
    public void Track(long id, Task task)
    {
        _tasks[id] = task;
        _ = task.ContinueWith(
            static (_, state) =>
            {
                var (connections, id) = ((OpenConnections, long))state!;
                connections._tasks.TryRemove(id, out Task? _);
            },
            (this, id),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>Adds an open session; returns how many are open now, this one included.</summary>
    public int Add(ServerSession session)
    {
        _sessions[session.Id] = session;
        return Interlocked.Increment(ref _count);
    }

    /// <summary>Removes a closed session; returns how many are still open.</summary>
    public int Remove(ServerSession session)
    {
        _sessions.TryRemove(session.Id, out _);
        return Interlocked.Decrement(ref _count);
    }
}
