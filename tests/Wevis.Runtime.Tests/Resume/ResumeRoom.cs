using System.Collections.Concurrent;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Messages;

namespace Wevis.Runtime.Tests.Resume;

/// <summary>
/// A room that checks, per user (not per connection: a resumed session keeps its user's count), that numbered
/// messages arrive exactly once and in order, answers each with its number, and counts drops, resumes and leaves.
/// </summary>
internal sealed class ResumeRoom : TimeRoom
{
    private readonly ConcurrentDictionary<string, int> _next = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _leaves = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _drops = new();
    private int _duplicates;
    private int _gaps;
    private int _dropped;
    private int _resumed;
    private int _leaves0;

    public int Duplicates => Volatile.Read(ref _duplicates);

    public int Gaps => Volatile.Read(ref _gaps);

    public int DroppedCount => Volatile.Read(ref _dropped);

    public int ResumedCount => Volatile.Read(ref _resumed);

    public int Leaves => Volatile.Read(ref _leaves0);

    /// <summary>How many messages the drop hook sends the dropped user (they wait for the resume).</summary>
    public int SendOnDrop { get; set; }

    /// <summary>Whether a drop hook may end the session at once, with this reason.</summary>
    public string? EndOnDrop { get; set; }

    public TaskCompletionSource FirstDrop { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource FirstResume { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int HandledFrom(string user) => _next.GetValueOrDefault(user);

    public Task LeaveOf(string user) => _leaves.GetOrAdd(user, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Completes once the drop hook has run for <paramref name="user"/> (what it sends is then queued for the resume).</summary>
    public Task DropOf(string user) => _drops.GetOrAdd(user, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    protected override void Handle(Connection connection, IMessage message)
    {
        if (message is not Numbered(int sequence))
        {
            base.Handle(connection, message);
            return;
        }

        int expected = _next.GetValueOrDefault(connection.User.Name);
        if (sequence < expected)
        {
            Interlocked.Increment(ref _duplicates);
            return;
        }

        if (sequence > expected)
        {
            Interlocked.Increment(ref _gaps);
        }

        _next[connection.User.Name] = sequence + 1;
        connection.Send(new NumberedReply(sequence));
    }

    protected override void OnUserDropped(Connection connection)
    {
        Interlocked.Increment(ref _dropped);
        for (int i = 0; i < SendOnDrop; i++)
        {
            connection.Send(new NumberedReply(-1));
        }

        FirstDrop.TrySetResult();
        _drops.GetOrAdd(connection.User.Name, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        if (EndOnDrop is { } reason)
        {
            connection.Close(reason);
        }
    }

    protected override void OnUserResumed(Connection connection)
    {
        Interlocked.Increment(ref _resumed);
        FirstResume.TrySetResult();
    }

    protected override void OnUserLeave(Connection connection)
    {
        Interlocked.Increment(ref _leaves0);
        _leaves.GetOrAdd(connection.User.Name, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        base.OnUserLeave(connection);
    }
}
