using System.Runtime.CompilerServices;
using Wevis.Protocol;
using Wevis.Transport;

namespace Wevis.Rooms;

/// <summary>
/// One user's way through the rooms: which room they are in, the hand-over of their messages to it, and their
/// moves between rooms. Everything here for one user happens one thing at a time (the user's gate), so a move and
/// the user's messages cannot overlap: every message handled before a move goes to the old room, every one after
/// it to the new room, none twice.
/// </summary>
/// <remarks>
/// <para>A move is: hold a seat in the target (refused at once if it is full, locked or closed); leave the old
/// room in its turn (leave hook); enter the target in its turn (enter hook); then tell the client. No step holds
/// two rooms' turns at once, so rooms moving users to each other cannot deadlock.</para>
/// <para>Room code moves users of its own room (<c>Room.MoveAsync</c>) while it holds that room's turn: the leave
/// happens there and then, and the rest is finished by the user's gate, before any more of their messages is
/// handled.</para>
/// </remarks>
internal sealed class UserDispatcher(Connection connection)
{
    private readonly AsyncGate _gate = new();
    private Room? _room;
    private PendingMove? _move;
    private bool _ended;

    /// <summary>The room the user is in; null while moving and after leaving.</summary>
    public Room? Room => Volatile.Read(ref _room);

    /// <summary>After the login: the user enters the entry room. A refusal there closes the connection.</summary>
    public async ValueTask EnterEntryRoomAsync()
    {
        await EnterGateAsync().ConfigureAwait(false);
        try
        {
            Room lobby = connection.Directory.EntryRoom;
            string? refusal = lobby.Members.TryHoldSeat(force: false);
            if (refusal is not null)
            {
                connection.Close("the server is full: " + refusal);
                return;
            }

            refusal = await lobby.EnterAsync(connection, connection.Batch, Notice(0, lobby, string.Empty)).ConfigureAwait(false);
            if (refusal is not null)
            {
                lobby.ReleaseSeat();
                connection.Close(refusal);
            }
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <summary>Hands a run of the user's messages to the room they are in, in order; room requests are handled here.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask ReceiveAsync(List<IMessage> messages, int start, int end)
    {
        await EnterGateAsync().ConfigureAwait(false);
        try
        {
            int index = start;
            while (index < end && connection.IsOpen)
            {
                if (Volatile.Read(ref _move) is not null)
                {
                    await CompletePendingMoveAsync().ConfigureAwait(false);
                }

                IMessage message = messages[index];
                if (message.Descriptor.IsProtocolMessage)
                {
                    index++;
                    await HandleRequestAsync(message).ConfigureAwait(false);
                    continue;
                }

                if (Volatile.Read(ref _room) is not { } room)
                {
                    // Room code may have moved the user since _move was read above: it sets _move before it clears
                    // _room, so a move that cleared it is seen here, and the loop's top finishes it.
                    if (Volatile.Read(ref _move) is not null)
                    {
                        continue;
                    }

                    // Only after the user has left for good (or could not enter anywhere and is being closed).
                    index++;
                    continue;
                }

                index = await room.DeliverAsync(connection, messages, index, end).ConfigureAwait(false);
            }

            if (Volatile.Read(ref _move) is not null)
            {
                await CompletePendingMoveAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <summary>The user's connection was lost (<paramref name="resumed"/> false) or their session resumed: their room's hook runs.</summary>
    public async ValueTask DroppedOrResumedAsync(bool resumed)
    {
        await _gate.EnterAsync().ConfigureAwait(false);
        try
        {
            if (!_ended && Volatile.Read(ref _room) is { } room)
            {
                await room.DroppedOrResumedAsync(connection, connection.Batch, resumed).ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <summary>The connection has closed: the user leaves their room (once), and any move under way is abandoned.</summary>
    public async ValueTask EndAsync()
    {
        await _gate.EnterAsync().ConfigureAwait(false);
        try
        {
            _ended = true;
            while (true)
            {
                ReleaseSeatsOf(Interlocked.Exchange(ref _move, null));
                if (Volatile.Read(ref _room) is not { } room)
                {
                    break;
                }

                if (await room.LeaveAsync(connection, connection.Batch).ConfigureAwait(false))
                {
                    Volatile.Write(ref _room, null);
                    room.ReleaseSeat();
                    break;
                }

                // Room code moved the user out meanwhile: give back the seats that move holds (next pass). With no move
                // under way they are in no room (never expected; but a stale room here must not spin this loop forever).
                if (Volatile.Read(ref _move) is null)
                {
                    Volatile.Write(ref _room, null);
                    break;
                }
            }
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <summary>
    /// A move started by <paramref name="from"/>'s own code, which holds its turn: the user leaves now; the rest is
    /// done by the user's gate. <paramref name="seatHeld"/>: the caller already holds a seat in the target.
    /// </summary>
    public async ValueTask<JoinResult> MoveFromRoomCodeAsync(Room from, Room target, string reason, bool seatHeld = false, bool force = false)
    {
        if (!from.Members.Contains(connection))
        {
            if (seatHeld)
            {
                target.ReleaseSeat();
            }

            throw new InvalidOperationException($"{connection.User.Name} is not in room {from.Id}.");
        }

        if (ReferenceEquals(from, target))
        {
            if (seatHeld)
            {
                target.ReleaseSeat();
            }

            return JoinResult.Refused($"already in room {target.Id}");
        }

        if (!seatHeld && target.Members.TryHoldSeat(force) is { } refusal)
        {
            return JoinResult.Refused(refusal);
        }

        await from.LeaveInTurnAsync(connection, connection.Batch).ConfigureAwait(false);

        // The move first, then the room cleared: the user's gate, finding no room, checks for a move (it does not
        // hold this room's turn, so it may read between the two writes); the other way round a message read there
        // was dropped as if the user had left for good. Cleared only if still this room: the gate may already have
        // finished the move and put the user in the target.
        Volatile.Write(ref _move, new PendingMove(from, target, 0, reason));
        Interlocked.CompareExchange(ref _room, null, from);
        // Finished off this stack: here the caller holds its room's turn, and entering the target needs the target's.
        ThreadPool.UnsafeQueueUserWorkItem(static dispatcher => _ = dispatcher.CompleteMoveWhenFreeAsync(), this, preferLocal: false);
        return JoinResult.Into(target);
    }

    /// <summary>
    /// A move started by code outside any room's turn (<see cref="RoomDirectory.MoveAsync"/>); completes when the
    /// user is in the target, or back where they were.
    /// </summary>
    public async Task<JoinResult> MoveFromOutsideAsync(Room target, string reason, bool seatHeld)
    {
        await _gate.EnterAsync().ConfigureAwait(false);
        try
        {
            if (_ended)
            {
                if (seatHeld)
                {
                    target.ReleaseSeat();
                }

                return JoinResult.Refused("the connection has closed");
            }

            if (!seatHeld && target.Members.TryHoldSeat(force: false) is { } refusal)
            {
                return JoinResult.Refused(refusal);
            }

            return await MoveHoldingGateAsync(target, 0, reason).ConfigureAwait(false);
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <summary>
    /// On a cluster node: the user, in no room of this node, enters <paramref name="target"/>, where a seat is held
    /// for them. Returns null, or why they were refused (the seat is then given back); where they go instead is the
    /// gateway's to decide.
    /// </summary>
    public async ValueTask<string?> EnterHereAsync(Room target, int request, string reason)
    {
        await _gate.EnterAsync().ConfigureAwait(false);
        try
        {
            if (_ended)
            {
                target.ReleaseSeat();
                return "the connection has closed";
            }

            await target.Created.ConfigureAwait(false);
            string? refusal = await target.EnterAsync(connection, connection.Batch, Notice(request, target, reason)).ConfigureAwait(false);
            if (refusal is not null)
            {
                target.ReleaseSeat();
            }

            return refusal;
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <summary>
    /// On a cluster node: hands the user's messages to the room they are in here, in order, until they have left it
    /// (room code moved them to a room elsewhere); returns the index of the first message not handled.
    /// </summary>
    public async ValueTask<int> ReceiveHereAsync(List<IMessage> messages, int start, int end)
    {
        await EnterGateAsync().ConfigureAwait(false);
        try
        {
            int index = start;
            while (index < end && connection.IsOpen && Volatile.Read(ref _room) is { } room)
            {
                int next = await room.DeliverAsync(connection, messages, index, end).ConfigureAwait(false);
                if (next == index)
                {
                    break;
                }

                index = next;
            }

            return index;
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <summary>
    /// On a cluster node: room code of <paramref name="from"/>, holding its turn, moves the user to a room elsewhere:
    /// they leave here now (leave hook) and their seat is given back; the gateway takes them on. False if they were
    /// not in <paramref name="from"/>.
    /// </summary>
    public async ValueTask<bool> LeaveForRoomElsewhereAsync(Room from)
    {
        if (!ReferenceEquals(Volatile.Read(ref _room), from) || !await from.LeaveInTurnAsync(connection, connection.Batch).ConfigureAwait(false))
        {
            return false;
        }

        Volatile.Write(ref _room, null);
        _ended = true;
        from.ReleaseSeat();
        return true;
    }

    /// <summary>
    /// The user is now a member of <paramref name="room"/>: called by the room in its turn, before its enter hook, so
    /// that room code moving them on (the hook itself, or a timer just after it) finds them there, and its move is not
    /// overwritten by the caller writing the room after the enter.
    /// </summary>
    internal void EnteredInTurn(Room room) => Volatile.Write(ref _room, room);

    /// <summary>The room turned the user away (its enter hook refused or failed): called by the room in its turn.</summary>
    internal void RefusedInTurn(Room room) => Interlocked.CompareExchange(ref _room, null, room);

    private ValueTask EnterGateAsync()
    {
        if (_gate.TryEnter())
        {
            return ValueTask.CompletedTask;
        }

        connection.Batch.FlushAll();
        return _gate.EnterAsync();
    }

    /// <summary>Handles a room request from the client; the caller holds the gate and no room's turn.</summary>
    private async ValueTask HandleRequestAsync(IMessage message)
    {
        RoomDirectory directory = connection.Directory;
        int request;
        Room? target;
        string? refusal;
        switch (message)
        {
            case JoinRoom join:
                request = join.Request;
                (target, refusal) = directory.HoldSeatById(join.Room);
                break;
            case JoinOrCreateRoom joinOrCreate:
                request = joinOrCreate.Request;
                (target, refusal) = directory.HoldSeatInAnyOrNew(joinOrCreate.Type, byClient: true);
                break;
            case CreateRoom create:
                request = create.Request;
                (target, refusal) = directory.CreateHoldingSeat(create.Type, byClient: true);
                break;
            case LeaveRoom leave:
                request = leave.Request;
                target = directory.EntryRoom;
                refusal = ReferenceEquals(Volatile.Read(ref _room), target) ? "you are in the entry room already" : target.Members.TryHoldSeat(force: true);
                if (refusal is not null)
                {
                    target = null;
                }

                break;
            default:
                connection.CloseForViolation($"sent the protocol message {message.Descriptor.Name} after logging in");
                return;
        }

        if (target is null)
        {
            connection.Send(new JoinRefused(request, refusal!));
            return;
        }

        await target.Created.ConfigureAwait(false);
        JoinResult result = await MoveHoldingGateAsync(target, request, string.Empty).ConfigureAwait(false);
        if (!result.Accepted)
        {
            connection.Send(new JoinRefused(request, result.RefusalReason!));
        }
    }

    /// <summary>Moves the user into <paramref name="target"/>, where a seat is held for them; the caller holds the gate and no turn.</summary>
    private async ValueTask<JoinResult> MoveHoldingGateAsync(Room target, int request, string reason)
    {
        while (true)
        {
            // A move room code started goes first: the user is where it put them before this one starts.
            if (Volatile.Read(ref _move) is not null)
            {
                await CompletePendingMoveAsync().ConfigureAwait(false);
            }

            Room? from = Volatile.Read(ref _room);
            if (from is null && Volatile.Read(ref _move) is not null)
            {
                // Room code moved the user since _move was read above (see MoveFromRoomCodeAsync): finish that move first.
                continue;
            }

            if (ReferenceEquals(from, target))
            {
                target.ReleaseSeat();
                return JoinResult.Refused($"already in room {target.Id}");
            }

            if (from is not null && !await from.LeaveAsync(connection, connection.Batch).ConfigureAwait(false))
            {
                // Room code moved the user out while this waited for the room: finish that move, then start again.
                continue;
            }

            Volatile.Write(ref _room, null);
            var move = new PendingMove(from, target, request, reason);
            return await CompleteMoveAsync(move).ConfigureAwait(false) ? JoinResult.Into(target) : JoinResult.Refused(move.Refusal!);
        }
    }

    private async Task CompleteMoveWhenFreeAsync()
    {
        await _gate.EnterAsync().ConfigureAwait(false);
        try
        {
            if (Volatile.Read(ref _move) is not null)
            {
                await CompletePendingMoveAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Exit();
            connection.Batch.FlushAll();
        }
    }

    private async ValueTask CompletePendingMoveAsync()
    {
        if (Interlocked.Exchange(ref _move, null) is { } move)
        {
            if (_ended)
            {
                ReleaseSeatsOf(move);
                return;
            }

            await CompleteMoveAsync(move).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Enters the user, who has left <see cref="PendingMove.From"/>, into the target; if the target refuses them,
    /// puts them back where they were (or, failing that, in the entry room; failing that, closes the connection).
    /// Returns whether they reached the target.
    /// </summary>
    private async ValueTask<bool> CompleteMoveAsync(PendingMove move)
    {
        FlushBatch batch = connection.Batch;
        // The room the user enters is recorded by the room itself, in its turn (EnteredInTurn), not here: room code
        // (the enter hook, a timer just after it) may have moved them on before this runs.
        string? refusal = await move.Target.EnterAsync(connection, batch, Notice(move.Request, move.Target, move.Reason)).ConfigureAwait(false);
        if (refusal is null)
        {
            move.From?.ReleaseSeat();
            return true;
        }

        move.Refusal = refusal;
        move.Target.ReleaseSeat();
        RoomLog.MoveFailed(connection.Directory.Logger, connection.User.Name, move.From?.Id ?? "nowhere", move.Target.Id, refusal);
        if (move.From is { } back)
        {
            // Back in the old room, whose enter hook runs again: the client hears of it, with why (but not as the answer to its request).
            if (await back.EnterAsync(connection, batch, Notice(0, back, refusal)).ConfigureAwait(false) is null)
            {
                return false;
            }

            back.ReleaseSeat();
        }

        Room lobby = connection.Directory.EntryRoom;
        if (!ReferenceEquals(lobby, move.From) && lobby.Members.TryHoldSeat(force: true) is null)
        {
            if (await lobby.EnterAsync(connection, batch, Notice(0, lobby, refusal)).ConfigureAwait(false) is null)
            {
                return false;
            }

            lobby.ReleaseSeat();
        }

        connection.Close("could not enter any room: " + refusal);
        return false;
    }

    /// <summary>What tells the client it is in <paramref name="room"/>: sent before anything the room's enter hook sends it.</summary>
    private static RoomChanged Notice(int request, Room room, string reason) => new(request, room.Id, room.Type, reason);

    private static void ReleaseSeatsOf(PendingMove? move)
    {
        if (move is not null)
        {
            move.Target.ReleaseSeat();
            move.From?.ReleaseSeat();
        }
    }

    /// <summary>A move whose leave has happened and whose enter has not.</summary>
    private sealed class PendingMove(Room? from, Room target, int request, string reason)
    {
        public Room? From { get; } = from;

        public Room Target { get; } = target;

        /// <summary>The client's request that asked for it; 0 if the server made it.</summary>
        public int Request { get; } = request;

        public string Reason { get; } = reason;

        /// <summary>Why the target refused the user, once it has.</summary>
        public string? Refusal { get; set; }
    }
}
