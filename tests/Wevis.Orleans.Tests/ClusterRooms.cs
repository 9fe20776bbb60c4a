using Wevis.Orleans.Tests.Messages;

namespace Wevis.Orleans.Tests;

/// <summary>The entry room of the test cluster: <c>join:TYPE</c> moves the sender to a room of that type (room code's join-or-create).</summary>
internal sealed class TestLobby : Room
{
    protected override async ValueTask HandleAsync(Connection connection, IMessage message)
    {
        switch (message)
        {
            case Say { Text: var text } when text.StartsWith("join:", StringComparison.Ordinal):
                JoinResult result = await JoinOrCreateAsync(connection, text["join:".Length..]);
                if (!result.Accepted)
                {
                    connection.Send(new Said("lobby", "refused: " + result.RefusalReason, -1));
                }

                break;
            case Say { Text: var text } when text.StartsWith("find:", StringComparison.Ordinal):
                // The directory from room code: the room may live on another node.
                RoomInfo? found = await Rooms.FindAsync(text["find:".Length..]);
                connection.Send(new Said("lobby", found is null ? "none" : $"{found.Id} {found.Count} {found.IsLocked}", -1));
                break;
            case Say { Text: var text } when text.StartsWith("list:", StringComparison.Ordinal):
                IReadOnlyList<RoomInfo> listed = await Rooms.ListAsync(text["list:".Length..]);
                connection.Send(new Said("lobby", string.Join(",", listed.Select(info => $"{info.Id}={info.Count}")), -1));
                break;
            case WhereAmI:
                connection.Send(new YouAreIn(Id, "", Count));
                break;
        }
    }
}

/// <summary>A chat room: every Say is broadcast with the room's own sequence number; leaving is announced.</summary>
internal sealed class ChatRoom : Room
{
    private int _sequence;

    protected override async ValueTask HandleAsync(Connection connection, IMessage message)
    {
        switch (message)
        {
            case Say { Text: "lobby" }:
                await MoveAsync(connection, Rooms.EntryRoom);
                break;
            case Say { Text: var text } when text.StartsWith("go:", StringComparison.Ordinal):
                JoinResult moved = await MoveAsync(connection, text["go:".Length..]);
                if (!moved.Accepted)
                {
                    connection.Send(new Said("room", "refused: " + moved.RefusalReason, -1));
                }

                break;
            case Say say:
                Broadcast(new Said(connection.User.Name, say.Text, _sequence++));
                break;
            case WhereAmI:
                connection.Send(new YouAreIn(Id, "", Count));
                break;
            case Request<Ask> { Message.Question: "fail" } ask:
                ask.Fail("asked to fail");
                break;
            case Request<Ask> ask:
                ask.Reply(new Answer(Id, ask.Message.Question));
                break;
        }
    }

    protected override void OnUserLeave(Connection connection) => Broadcast(new Said("room", connection.User.Name + " left", _sequence++));
}

/// <summary>A room whose enter hook greets each user, then sends them on to the entry room (a room that only routes).</summary>
internal sealed class HopRoom : Room
{
    protected override async ValueTask OnUserEnterAsync(Connection connection)
    {
        connection.Send(new Said(Id, "passing through", -1));
        await MoveAsync(connection, Rooms.EntryRoom);
    }
}

/// <summary>
/// A room whose enter hook sends each user on to its twin (<see cref="Twins"/>: room id to room id) until they have
/// entered loop rooms four times: moves made by room code alone, with no message of the user's between them. Kept when
/// empty (the type's <c>AutoDispose</c> is off), so a user can be sent back to a room they emptied.
/// </summary>
internal sealed class LoopRoom : Room
{
    public static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> Twins = new(StringComparer.Ordinal);

    /// <summary>How many times each user (by name) has entered a loop room.</summary>
    public static readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> Entries = new(StringComparer.Ordinal);

    /// <summary>Raised with the user's name each time a user has entered a loop room (after <see cref="Entries"/> counts it).</summary>
    public static event Action<string>? Entered;

    protected override async ValueTask OnUserEnterAsync(Connection connection)
    {
        int entries = Entries.AddOrUpdate(connection.User.Name, 1, static (_, n) => n + 1);
        Entered?.Invoke(connection.User.Name);
        if (entries < 4 && Twins.TryGetValue(Id, out string? twin))
        {
            await MoveAsync(connection, twin);
        }
    }

    protected override ValueTask HandleAsync(Connection connection, IMessage message)
    {
        if (message is WhereAmI)
        {
            connection.Send(new YouAreIn(Id, "", Count));
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// A room whose leave hook waits, for a user named in <see cref="HeldLeaves"/>, until the test completes their task;
/// its hooks write what they did into <see cref="Events"/> ("enter ROOM USER", "left ROOM USER"), in order.
/// </summary>
internal sealed class SlowLeaveRoom : Room
{
    public static readonly System.Collections.Concurrent.ConcurrentDictionary<string, TaskCompletionSource> HeldLeaves = new(StringComparer.Ordinal);

    public static readonly System.Collections.Concurrent.ConcurrentQueue<string> Events = new();

    /// <summary>Completes when a user named as the key has entered a slow-leave room.</summary>
    public static readonly System.Collections.Concurrent.ConcurrentDictionary<string, TaskCompletionSource> Entered = new(StringComparer.Ordinal);

    protected override ValueTask OnUserEnterAsync(Connection connection)
    {
        Events.Enqueue($"enter {Id} {connection.User.Name}");
        if (Entered.TryGetValue(connection.User.Name, out TaskCompletionSource? entered))
        {
            entered.TrySetResult();
        }

        return ValueTask.CompletedTask;
    }

    protected override async ValueTask OnUserLeaveAsync(Connection connection)
    {
        if (HeldLeaves.TryGetValue(connection.User.Name, out TaskCompletionSource? held))
        {
            await held.Task;
        }

        Events.Enqueue($"left {Id} {connection.User.Name}");
        Broadcast(new Said("room", connection.User.Name + " left", -1));
    }

    protected override ValueTask HandleAsync(Connection connection, IMessage message)
    {
        switch (message)
        {
            case WhereAmI:
                connection.Send(new YouAreIn(Id, "", Count));
                break;
            case Say { Text: var text }:
                Broadcast(new Said(connection.User.Name, text, -1));
                break;
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>Notes kept by a persistent room.</summary>
public sealed class NotesState
{
    public List<string> Texts { get; set; } = [];
}

/// <summary>A persistent room: each note is saved before it is acknowledged (with every note so far).</summary>
internal sealed class NotesRoom : PersistentRoom<NotesState>
{
    protected override async ValueTask HandleAsync(Connection connection, IMessage message)
    {
        switch (message)
        {
            case SaveNote note:
                State.Texts.Add(note.Text);
                await SaveStateAsync();
                Broadcast(new Notes(string.Join(",", State.Texts), IsRestored));
                break;
            case WhereAmI:
                connection.Send(new YouAreIn(Id, "", Count));
                break;
        }
    }
}

/// <summary>
/// What the <see cref="NumberedRoom"/>s saw of one user (by name: a resumed session keeps its user), kept outside the
/// rooms: the test cluster's silos share the test's process.
/// </summary>
internal sealed class NumberedLedger
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, NumberedLedger> ByUser = new();

    public int Next;
    public int Duplicates;
    public int Gaps;
    public int Dropped;
    public int Resumed;
    public int Leaves;

    /// <summary>Set when the room runs the user's drop hook, if a test waits for it.</summary>
    public TaskCompletionSource? DropSeen;

    /// <summary>While set, the user's resume hook waits for it to complete (a slow hook, holding the room's turn).</summary>
    public TaskCompletionSource? HoldResume;

    /// <summary>A room the user's resume hook moves them to (once), after <see cref="HoldResume"/>; null for none.</summary>
    public string? MoveOnResume;

    /// <summary>What that move answered.</summary>
    public JoinResult? MovedOnResume;

    /// <summary>Signalled after each change the room makes to the counts above, so a test waits on the hooks.</summary>
    public Changes Changes { get; } = new();

    public static NumberedLedger For(string user) => ByUser.GetOrAdd(user, _ => new NumberedLedger());
}

/// <summary>A room that checks each user's numbered messages arrive once and in order, answers each with its number, and counts drops, resumes and leaves.</summary>
internal class NumberedRoom : Room
{
    protected override ValueTask HandleAsync(Connection connection, IMessage message)
    {
        if (message is Numbered(int sequence))
        {
            NumberedLedger ledger = NumberedLedger.For(connection.User.Name);
            if (sequence < ledger.Next)
            {
                Interlocked.Increment(ref ledger.Duplicates);
                return ValueTask.CompletedTask;
            }

            if (sequence > ledger.Next)
            {
                Interlocked.Increment(ref ledger.Gaps);
            }

            Volatile.Write(ref ledger.Next, sequence + 1);
            ledger.Changes.Signal();
            connection.Send(new NumberedReply(sequence));
        }

        return ValueTask.CompletedTask;
    }

    protected override void OnUserDropped(Connection connection)
    {
        NumberedLedger ledger = NumberedLedger.For(connection.User.Name);
        Interlocked.Increment(ref ledger.Dropped);
        ledger.Changes.Signal();
        ledger.DropSeen?.TrySetResult();
    }

    protected override void OnUserResumed(Connection connection)
    {
        NumberedLedger ledger = NumberedLedger.For(connection.User.Name);
        Interlocked.Increment(ref ledger.Resumed);
        ledger.Changes.Signal();
    }

    protected override async ValueTask OnUserResumedAsync(Connection connection)
    {
        await base.OnUserResumedAsync(connection);
        NumberedLedger ledger = NumberedLedger.For(connection.User.Name);
        if (ledger.HoldResume is { } hold)
        {
            await hold.Task;
        }

        if (Interlocked.Exchange(ref ledger.MoveOnResume, null) is { } target)
        {
            ledger.MovedOnResume = await MoveAsync(connection, target);
        }
    }

    protected override void OnUserLeave(Connection connection)
    {
        NumberedLedger ledger = NumberedLedger.For(connection.User.Name);
        Interlocked.Increment(ref ledger.Leaves);
        ledger.Changes.Signal();
    }
}

/// <summary>Every numbered message a <see cref="TallyRoom"/> handled, in the order it handled them.</summary>
public sealed class TallyState
{
    public List<int> Seen { get; set; } = [];
}

/// <summary>A persistent room that saves each numbered message it handles before answering it with its number.</summary>
internal sealed class TallyRoom : PersistentRoom<TallyState>
{
    protected override async ValueTask HandleAsync(Connection connection, IMessage message)
    {
        if (message is Numbered(int sequence))
        {
            State.Seen.Add(sequence);
            await SaveStateAsync();
            connection.Send(new NumberedReply(sequence));
        }
    }
}

/// <summary>
/// A <see cref="NumberedRoom"/> that also broadcasts a numbered pulse (<c>Said("pulse", "", n)</c>) every 5 ms, so frames
/// reach its users whatever they are doing: in the middle of a takeover by another gateway too.
/// </summary>
internal sealed class PulsedRoom : NumberedRoom
{
    private int _pulse;

    protected override void OnCreated() => StartTicking(TimeSpan.FromMilliseconds(5));

    protected override void OnTick(RoomTick tick) => Broadcast(new Said("pulse", string.Empty, ++_pulse));
}
