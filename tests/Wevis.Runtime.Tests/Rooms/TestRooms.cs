using System.Collections.Concurrent;
using Wevis.Runtime.Tests.Messages;

namespace Wevis.Runtime.Tests.Rooms;

/// <summary>What the rooms of one test saw, across all of them: each user's handled sequence numbers, in order, and any mix-up.</summary>
internal sealed class RoomLedger
{
    private readonly ConcurrentDictionary<string, List<int>> _handled = new();
    private int _wrongRoom;
    private int _entered;
    private int _left;
    private TaskCompletionSource _leaveSeen = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Messages handled by a room other than the one their sender said it was in.</summary>
    public int WrongRoom => Volatile.Read(ref _wrongRoom);

    public int Entered => Volatile.Read(ref _entered);

    public int Left => Volatile.Read(ref _left);

    public IReadOnlyList<int> HandledBy(string user)
    {
        List<int> list = _handled.GetOrAdd(user, _ => []);
        lock (list)
        {
            return [.. list];
        }
    }

    public void Handled(string user, int sequence, bool rightRoom)
    {
        if (!rightRoom)
        {
            Interlocked.Increment(ref _wrongRoom);
        }

        List<int> list = _handled.GetOrAdd(user, _ => []);
        lock (list)
        {
            list.Add(sequence);
        }
    }

    public void Enter() => Interlocked.Increment(ref _entered);

    public void Leave()
    {
        Interlocked.Increment(ref _left);
        TaskCompletionSource changed;
        lock (_handled)
        {
            changed = _leaveSeen;
            _leaveSeen = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    /// <summary>Waits (woken by each leave) until every enter has had its leave; fails after <paramref name="timeout"/>.</summary>
    public async Task WaitUntilAllLeftAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        while (true)
        {
            Task changed;
            lock (_handled)
            {
                changed = _leaveSeen.Task;
            }

            if (Left == Entered)
            {
                return;
            }

            try
            {
                await changed.WaitAsync(cancel.Token);
            }
            catch (OperationCanceledException)
            {
                throw new Xunit.Sdk.XunitException($"{Entered} enters but only {Left} leaves after {timeout.TotalSeconds} s.");
            }
        }
    }
}

/// <summary>
/// A room for the rooms tests: answers <c>InRoom</c> with its own id (and books it in the ledger), relays
/// <c>Say</c> to everyone, closes itself on <c>CloseThisRoom</c>, and reports its life's events.
/// </summary>
internal class ChatRoom(RoomLedger? ledger = null) : Room
{
    public TaskCompletionSource Disposed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int CreatedCount { get; private set; }

    protected override async ValueTask HandleAsync(Connection connection, IMessage message)
    {
        switch (message)
        {
            case InRoom(int sequence, string room):
                ledger?.Handled(connection.User.Name, sequence, room == Id);
                connection.Send(new InRoomReply(sequence, Id));
                break;
            case Say(string text):
                Broadcast(new Said(connection.User.Name, text));
                break;
            case CloseThisRoom(string reason, bool disconnect):
                await CloseAsync(reason, disconnect);
                break;
            default:
                Handle(connection, message);
                break;
        }
    }

    protected override void OnCreated() => CreatedCount++;

    protected override void OnUserEnter(Connection connection) => ledger?.Enter();

    protected override void OnUserLeave(Connection connection) => ledger?.Leave();

    protected override void OnDisposed() => Disposed.TrySetResult();
}
