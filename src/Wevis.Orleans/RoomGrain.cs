using Microsoft.Extensions.Logging;
using Orleans.Runtime.Placement;
using Wevis.Transport;

namespace Wevis.Orleans;

/// <summary>
/// A room on the cluster: hosts one instance of the user's <see cref="Room"/> subclass, unchanged, on this node, and
/// connects it to users whose connections are held by gateways anywhere in the cluster.
/// </summary>
/// <remarks>
/// The grain is reentrant: the room's one-at-a-time rule is kept by the room's own turn (as on one server), and its
/// ticks, timers and moves run outside grain calls, so the grain's own one-call-at-a-time would add nothing but waits.
/// The room lives as long as the grain does: it is kept active while the room exists, and goes when the room is disposed.
/// Rooms are placed at random over the silos: the default placement (resource-optimized) would put every room made by
/// join-or-create beside its room type's grain, on one silo, and placing by activation counts reads counts published
/// every second or so, so a burst of new rooms would still land on one silo.
/// </remarks>
[Reentrant]
[global::Orleans.Placement.RandomPlacement]
[CollectionAgeLimit(AlwaysActive = true)]
internal sealed class RoomGrain(NodeRooms node) : Grain, IRoomGrain
{
    /// <summary>The refusal an old gateway gets when it tries to enter again a user whose session resumed elsewhere.</summary>
    public const string TakenOverRefusal = "the session was resumed at another gateway";

    /// <summary>The refusal a takeover gets when its gateway gave up on it before it ran (<see cref="AbandonTakeOver"/>).</summary>
    public const string AbandonedRefusal = "the gateway gave up resuming the session";

    private readonly Lock _lock = new();
    private readonly Dictionary<(string Gateway, long Session), RemoteConnection> _users = [];
    /// <summary>Users room code moved on, by identity, until their gateway has seen it: the move, and the connection they had here.</summary>
    private readonly Dictionary<(string Gateway, long Session), (ClusterMove Move, RemoteConnection Connection)> _movedAway = [];
    private readonly Dictionary<string, GatewayOutbox> _outboxes = new(StringComparer.Ordinal);

    /// <summary>Leaves under way, by identity: a repeat of the gateway's call waits for the first (<see cref="Leave"/>).</summary>
    private readonly Dictionary<(string Gateway, long Session), Task> _leaving = [];

    /// <summary>
    /// Users whose stays the room ended because their gateway did not take its calls while more than the bound waited
    /// for it (<see cref="EndStaysOfOverflowedAsync"/>), by identity, with the reason: the gateway, if it comes back,
    /// is told so (a delivery's answer, a close in the next outbox for it) rather than entering them again as if the
    /// room had been restarted. Kept until the gateway's leave for the user, or its death.
    /// </summary>
    private readonly Dictionary<(string Gateway, long Session), string> _endedByOverflow = [];

    /// <summary>Users whose sessions resumed at another gateway, by their old identity: that gateway may not enter them again.</summary>
    private readonly HashSet<(string Gateway, long Session)> _takenOver = [];

    /// <summary>Identities gateways gave up taking a user over as (<see cref="AbandonTakeOver"/>): a late takeover by one is refused.</summary>
    private readonly HashSet<(string Gateway, long Session)> _abandoned = [];
    private Task<Room>? _opening;
    /// <summary>Whether the room was disposed: the grain goes once no move is under way or unseen.</summary>
    private bool _roomDisposed;
    private IGrainTimer? _lastMovesKept;

    /// <summary>Moves room code has begun here whose users have not yet left (<see cref="MoveStarting"/>).</summary>
    private int _movesUnderWay;
    private ListingReporter? _listing;

    /// <summary>Seats held here for users on their way in, given back if not used in time; under the lock.</summary>
    private readonly SeatReservations _seats = new(node.Time, node.SeatReservationTimeout);
    private ITimer? _seatTimer;

    private string Id => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        node.Activated(Id);

        // The entry room opens at once, so that it is back as soon as its node is replaced.
        if (Id == RoomDirectory.EntryRoomName)
        {
            await OpenAsync(RoomDirectory.EntryRoomName);
        }
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        node.Deactivated(Id);
        lock (_lock)
        {
            _seatTimer?.Dispose();
        }

        return Task.CompletedTask;
    }

    public async Task<string?> HoldSeat(string type, bool force, bool create, string? holder)
    {
        if (!create && _opening is null)
        {
            DeactivateOnIdle();
            return $"there is no room '{Id}'";
        }

        Room room = await OpenAsync(type);
        return HoldReservedSeat(room, force, holder);
    }

    public async Task ReleaseSeat(string type, string? holder)
    {
        GiveBackReservedSeat(await OpenAsync(type), holder);
    }

    public async Task<SeatForType> HoldSeatForType(string type, string? holder)
    {
        Room room = await OpenAsync(type);
        string? refusal = HoldReservedSeat(room, force: false, holder);
        return new SeatForType(refusal, _listing!.Now());
    }

    public async Task<bool> Open(string type)
    {
        // The caller's placement hint put this room on its node; rooms this one makes go where they would anyway.
        RequestContext.Remove(IPlacementDirector.PlacementHintKey);
        bool made;
        Task<Room> opening;
        lock (_lock)
        {
            made = _opening is null;
            opening = _opening ??= CreateRoomAsync(type);
        }

        await opening;
        return made;
    }

    public Task Revive(string type) => OpenAsync(type);

    public async Task<bool> Close(string reason, bool disconnect)
    {
        if (_opening is null)
        {
            DeactivateOnIdle();
            return false;
        }

        Room room = await _opening;
        if (room.IsClosed)
        {
            return false;
        }

        await room.InvokeAsync(() => room.CloseInTurnAsync(reason, disconnect));
        return true;
    }

    public async Task<string?> Enter(ClusterUser user, string type, int request, string reason, bool seatHeld, bool force, long handled, SentFrames? sent, long entry)
    {
        var key = (user.GatewayId, user.Session);
        bool takenOver;
        lock (_lock)
        {
            takenOver = _takenOver.Contains(key);
        }

        if (takenOver)
        {
            if (seatHeld && _opening is { IsCompletedSuccessfully: true } opened)
            {
                GiveBackReservedSeat(opened.Result, user.SeatHolder);
            }

            return TakenOverRefusal;
        }

        Room room = await OpenAsync(type);
        var call = new EntryCall(type, request, reason, seatHeld, force, handled, entry);

        // From here to the user's place below nothing awaits, so a repeat of this call cannot slip in between.
        if (RepeatedEntry(key, call) is { } entered)
        {
            // The gateway made this call again: the first one's answer was lost (or came after its timeout), and the
            // user is in already (or was, until room code moved them on: the gateway follows that move once it has the
            // answer). They get the first call's answer, once its enter hook is done; entering them again would run
            // the hooks twice and take a second seat, and a fallback to another room would leave them in two.
            return await entered.Entered.Task;
        }

        // A seat held for them that the room gave back meanwhile (they came late) is held again, if there is one.
        if (!(seatHeld && TakeReservedSeat(user.SeatHolder)) && room.Members.TryHoldSeat(force) is { } refusal)
        {
            return refusal;
        }

        var connection = new RemoteConnection(user, OutboxFor(user), node, this, TailFor(user, sent)) { Handled = handled, Entry = call };
        RemoteConnection? stale;
        lock (_lock)
        {
            _users.Remove(key, out stale);
            _movedAway.Remove(key);
            _endedByOverflow.Remove(key);
            _users[key] = connection;
        }

        try
        {
            if (stale is not null)
            {
                stale.MarkGone("entered again");
                await stale.Dispatcher.EndAsync();
            }

            string? refused = await connection.Dispatcher.EnterHereAsync(room, request, reason);
            if (refused is not null)
            {
                Forget(connection);
            }

            connection.Entered.TrySetResult(refused);
            return refused;
        }
        catch (Exception ex)
        {
            connection.Entered.TrySetException(ex);
            throw;
        }
    }

    /// <summary>
    /// The user's place here made by an earlier <see cref="Enter"/> with the same arguments as <paramref name="call"/>
    /// (a repeat of that call), if there is one; null if this call is a new entry.
    /// </summary>
    /// <remarks>
    /// A place the user got otherwise (taken over by another gateway: its entry was the old identity's), or is held in
    /// for a resume (their gateway died, or gave up), is not the repeated call's. A user room code moved on after that
    /// entry counts too: the move was recorded after the entry, which drops any older one.
    /// </remarks>
    private RemoteConnection? RepeatedEntry((string Gateway, long Session) key, EntryCall call)
    {
        lock (_lock)
        {
            RemoteConnection? entered = _users.TryGetValue(key, out RemoteConnection? here) ? here
                : _movedAway.TryGetValue(key, out var away) ? away.Connection
                : null;
            return entered is { HeldForResume: false, AbandonPending: false, LastSwitch: null } && entered.Entry == call ? entered : null;
        }
    }

    public async Task<DeliverResult> Deliver(ClusterUser user, string type, byte[] frames, long first)
    {
        await OpenAsync(type);
        var key = (user.GatewayId, user.Session);
        RemoteConnection? connection;
        (ClusterMove Move, RemoteConnection Connection) away;
        string? ended;
        lock (_lock)
        {
            _users.TryGetValue(key, out connection);
            _movedAway.TryGetValue(key, out away);
            _endedByOverflow.TryGetValue(key, out ended);
        }

        if (connection is null && ended is not null)
        {
            // The room ended their stay while their gateway did not take its calls: the gateway closes the session.
            return new DeliverResult(0, false, null, ended);
        }

        if (connection is null)
        {
            return away.Move is { } move ? await DeliverAfterMoveAsync(away.Connection, move, frames, first) : new DeliverResult(0, true, null);
        }

        // One delivery at a time per user: a call made again (its answer was lost, a timeout) waits for the first to finish.
        int handled;
        int count;
        GatewayOutbox outbox;
        await connection.Deliveries.WaitAsync();
        try
        {
            var decoder = new FrameDecoder(node.WireMessages, node.MaxFrameSize);
            if (decoder.TakeFrames(frames, ended: true, out _) is { } error)
            {
                connection.Close(error.Message);
            }

            // Messages this room has handled already (the same call made again) are skipped: counted, not handled twice.
            List<IMessage> messages = decoder.Batch;
            count = messages.Count;
            int skip = (int)Math.Clamp(connection.Handled - first, 0, messages.Count);
            handled = await connection.Dispatcher.ReceiveHereAsync(messages, skip, messages.Count);
            connection.Handled = first + handled;
            outbox = connection.Outbox;
        }
        finally
        {
            // Released before the drain below: the count is final here, and a takeover by another gateway (which
            // waits for it) need not wait for a dead gateway's outbox to fail.
            connection.Deliveries.Release();
        }

        if (handled < count && connection.PendingMove is { } moved)
        {
            // What the room sent before the move reaches the client before anything the next room sends.
            await outbox.DrainAsync();
            return new DeliverResult(handled, false, moved);
        }

        if (user.Resumable)
        {
            // The gateway acknowledges these messages to the client once this returns: what the room sent in
            // answer is at the gateway by then (in its replay log), so a node dying now loses no answer to an
            // acknowledged message. (A resumable user's room also holds those answers until the client acknowledges them.)
            await outbox.DrainAsync();
        }

        return new DeliverResult(handled, false, null);
    }

    /// <summary>
    /// A delivery for a user room code has moved on: the gateway has not followed the move yet. If this is a delivery
    /// made again (the first call's answer was lost), the room handled its messages up to the one that moved the user:
    /// those are counted, so the gateway forwards only the rest to the target, and none is handled twice.
    /// </summary>
    private async Task<DeliverResult> DeliverAfterMoveAsync(RemoteConnection moved, ClusterMove move, byte[] frames, long first)
    {
        // The first call may still be finishing (its count is final once it lets go of the user's deliveries).
        await moved.Deliveries.WaitAsync();
        moved.Deliveries.Release();
        long handledBefore = moved.Handled - first;
        if (handledBefore <= 0)
        {
            return new DeliverResult(0, false, move);
        }

        var decoder = new FrameDecoder(node.WireMessages, node.MaxFrameSize);
        decoder.TakeFrames(frames, ended: true, out _);
        return new DeliverResult((int)Math.Min(handledBefore, decoder.Batch.Count), false, move);
    }

    public async Task DroppedOrResumed(ClusterUser user, bool resumed)
    {
        RemoteConnection? connection;
        lock (_lock)
        {
            _users.TryGetValue((user.GatewayId, user.Session), out connection);
        }

        if (connection is null)
        {
            // Not here (the room was restarted elsewhere): the gateway enters the user again when it hears of it.
            DeactivateIfNeverOpened();
            return;
        }

        // Remembered, so a takeover by another gateway runs the resume hook, and a gateway's death no second drop hook.
        connection.Dropped = !resumed;
        await connection.Dispatcher.DroppedOrResumedAsync(resumed);
    }

    public async Task Leave(ClusterUser user)
    {
        var key = (user.GatewayId, user.Session);
        RemoteConnection? connection = null;
        (ClusterMove Move, RemoteConnection Connection) away = default;
        TaskCompletionSource? mine = null;
        Task? underWay;
        GatewayOutbox? closing = null;
        lock (_lock)
        {
            if (_endedByOverflow.Remove(key) && _outboxes.TryGetValue(user.GatewayId, out GatewayOutbox? next))
            {
                // Their stay ended already; the close the next outbox carries for them reaches the gateway first.
                closing = next;
            }

            if (!_leaving.TryGetValue(key, out underWay))
            {
                mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _leaving[key] = mine.Task;
                _users.Remove(key, out connection);
                _movedAway.Remove(key, out away);
            }
        }

        if (underWay is not null)
        {
            // The gateway made this call again (the first one's answer was lost, or came after its timeout) while the
            // first is still under way: answered once that one is done (leave hook run, what the room sent the user at
            // the gateway), so the user is not sent on to their next room before it. A repeat after it finds nothing.
            await underWay;
            return;
        }

        try
        {
            if (closing is not null)
            {
                await closing.DrainAsync();
            }

            await LeaveAsync(connection, away);
        }
        finally
        {
            lock (_lock)
            {
                _leaving.Remove(key);
            }

            mine!.TrySetResult();
        }
    }

    /// <summary>The user, taken out of the room's maps by <see cref="Leave"/>, leaves (or the move they had not followed is undone).</summary>
    private async Task LeaveAsync(RemoteConnection? connection, (ClusterMove Move, RemoteConnection Connection) away)
    {
        if (away.Move is { } move)
        {
            // Room code had moved them, and their gateway leaves (a request of the client's, or its end) before it saw
            // the move: what this room sent them before it reaches the gateway first, as on any leave, and the seat held
            // for them in the target goes back now rather than when the target gives it back itself.
            await away.Connection.Outbox.DrainAsync();
            await ReleaseMoveTargetSeatAsync(move, away.Connection);
        }

        DeactivateIfDoneAfterDispose();

        if (connection is null)
        {
            DeactivateIfNeverOpened();
            return;
        }

        await connection.Dispatcher.EndAsync();
        connection.MarkGone("left the room");
        await connection.Outbox.DrainAsync();
    }

    public async Task GatewayGone(string gatewayId)
    {
        List<RemoteConnection> gone;
        List<RemoteConnection> held = [];
        lock (_lock)
        {
            gone = [.. _users.Values.Where(c => c.ClusterUser.GatewayId == gatewayId)];
            foreach (RemoteConnection connection in gone)
            {
                if (connection.Tail is { BrokenReason: null } && connection.ClusterUser.ResumeKey is not null && node.ResumeGracePeriod > TimeSpan.Zero)
                {
                    // Resumable: their client may come back through another gateway, which takes them over.
                    if (!connection.HeldForResume)
                    {
                        connection.HeldForResume = true;
                        held.Add(connection);
                    }

                    continue;
                }

                _users.Remove((gatewayId, connection.ClusterUser.Session));
            }

            foreach (var key in _movedAway.Keys.Where(k => k.Gateway == gatewayId).ToList())
            {
                _movedAway.Remove(key);
            }

            foreach (var key in _endedByOverflow.Keys.Where(k => k.Gateway == gatewayId).ToList())
            {
                _endedByOverflow.Remove(key);
            }

            _takenOver.RemoveWhere(k => k.Gateway == gatewayId);
            _abandoned.RemoveWhere(k => k.Gateway == gatewayId);
            if (_outboxes.Remove(gatewayId, out GatewayOutbox? outbox))
            {
                // A call it is sending again would only wait for a dead silo.
                outbox.Stop();
            }
        }

        DeactivateIfDoneAfterDispose();

        foreach (RemoteConnection connection in gone.Except(held))
        {
            if (connection.HeldForResume)
            {
                continue;
            }

            // Taken out of the room's maps above, with the gateway's other entries. Unlike the other ends, the record
            // ends here only for a resumable user whose frames the room could not keep (one whose frames are kept is
            // held above instead), and a user who is not resumable has no record.
            string? recordEnd = connection.Tail?.BrokenReason is { } broken ? "the session could not be kept: " + broken : null;
            await EndStayAsync(connection, "its gateway is gone", recordEnd);
        }

        foreach (RemoteConnection connection in held)
        {
            await HoldForResumeAsync(connection, gatewayId);
        }
    }

    /// <summary>
    /// Holds <paramref name="connection"/>'s user (marked <see cref="RemoteConnection.HeldForResume"/> under the lock)
    /// for the grace period, for their client to resume through another gateway; runs the drop hook if it has not run.
    /// </summary>
    private async Task HoldForResumeAsync(RemoteConnection connection, string gatewayId)
    {
        OrleansLog.HeldForResume(node.Logger, Id, connection.User.Name, gatewayId, node.ResumeGracePeriod.TotalSeconds);
        connection.Grace = node.Time.CreateTimer(
            static state => _ = ((RemoteConnection)state!).Host.LetHeldUserGoAsync((RemoteConnection)state!),
            connection,
            node.ResumeGracePeriod,
            Timeout.InfiniteTimeSpan);
        if (!connection.Dropped)
        {
            // Not told of a drop before (the client was connected when its gateway died): the drop hook runs now.
            connection.Dropped = true;
            await connection.Dispatcher.DroppedOrResumedAsync(resumed: false);
        }
    }

    public async Task<TakeOverResult> TakeOver(string gatewayId, long session, ClusterUser by)
    {
        var key = (gatewayId, session);
        var byKey = (by.GatewayId, by.Session);
        RemoteConnection? connection;
        (string Gateway, long Session) current;
        lock (_lock)
        {
            if (_abandoned.Contains(byKey))
            {
                // The gateway gave up on this takeover before this call of it ran: it no longer has the session.
                return new TakeOverResult(AbandonedRefusal, 0, 0, null);
            }

            // The record may name an identity the user had before a takeover whose gateway could not update the record
            // (HeldBy failed): if that gateway has died too (the user is held for resume), this resume is the session's
            // only way back, so it goes on as if the record were current. A user connected through a live gateway is
            // not taken by a stale claim: that is a second resume of one session, and the first won.
            if (SwitchedToLocked(byKey) is { } taken && taken.FormerIdentities.Contains(key))
            {
                // Already switched to `by`: this is a retry of this very takeover (answered below, once the first call is done).
                connection = taken;
            }
            else if (!_users.TryGetValue(key, out connection))
            {
                connection = _users.Values.FirstOrDefault(c => (c.HeldForResume || c.AbandonPending) && c.FormerIdentities.Contains(key));
            }

            if (connection is null)
            {
                return new TakeOverResult(NotHereRefusal(key), 0, 0, null);
            }

            current = (connection.ClusterUser.GatewayId, connection.ClusterUser.Session);
        }

        // A delivery under way from the old gateway finishes first: the count handed over is final. So does a first call
        // of this takeover, resume hook and all, if this is its retry.
        await connection.Deliveries.WaitAsync();
        try
        {
            SwitchPoint? repeated = null;
            lock (_lock)
            {
                if (ReferenceEquals(SwitchedToLocked(byKey), connection))
                {
                    // The gateway tried again: the call it gave up on (its answer lost, or slow past the gateway's
                    // timeout) switched the user to it (room code may have moved them on since). It gets the same
                    // answer, or it would be refused as taken over and the client would lose its session. Never a
                    // second switch: a user is switched to an identity once.
                    repeated = connection.LastSwitchBy(by);
                    if (repeated is null)
                    {
                        return new TakeOverResult(NotHereRefusal(key), 0, 0, null);
                    }
                }
                else if (_abandoned.Contains(byKey))
                {
                    // This gateway gave up on it while this call waited.
                    return new TakeOverResult(AbandonedRefusal, 0, 0, null);
                }
                else if (!_users.TryGetValue(current, out RemoteConnection? now) || !ReferenceEquals(now, connection)
                    || (current != key && !connection.HeldForResume))
                {
                    // Another resume of the same session (at another gateway) took it while this one waited.
                    return new TakeOverResult(NotHereRefusal(key), 0, 0, null);
                }
            }

            if (repeated is not null)
            {
                // Copied off the grain's lock: up to the replay bound.
                if (connection.FramesHandedOver(repeated) is { } again)
                {
                    return new TakeOverResult(null, repeated.Handled, repeated.Acknowledged, again, repeated.To.Holding);
                }

                // Not all held: over the bound (the session cannot be kept), or acknowledged since, and then the gateway
                // has the user already and this is a stale call of the takeover, which must not end the session.
                return connection.Tail?.BrokenReason is { } broken
                    ? await EndUnkeptAsync(connection, byKey, "the session could not be kept: " + broken)
                    : new TakeOverResult("the takeover was answered already", 0, 0, null);
            }

            // The session's holding goes up by one at each takeover, whatever the record that named it said: two
            // gateways that took the user over from the same stale record must not hold it at the same holding.
            ClusterUser holder = by with { Holding = Math.Max(by.Holding, connection.ClusterUser.Holding + 1) };
            long handled = connection.Handled;
            if (connection.SwitchTo(holder, OutboxFor(holder), handled, out long acknowledged) is not { } frames)
            {
                return new TakeOverResult("the session could not be kept: " + (connection.Tail?.BrokenReason ?? "it is not resumable"), 0, 0, null);
            }

            lock (_lock)
            {
                _users.Remove(current);
                _users[byKey] = connection;
                if (!connection.HeldForResume)
                {
                    // A live gateway may not enter the user again (a dead one cannot; its entries went with it).
                    _takenOver.Add(current);
                }

                connection.FormerIdentities.Add(current);

                // Under the lock: the grace timer's thread (LetHeldUserGoAsync) must not see a user held and taken over at once.
                connection.Grace?.Dispose();
                connection.Grace = null;
                connection.HeldForResume = false;
            }

            if (connection.Dropped)
            {
                // The room ran the drop hook (their gateway told it, or died): back now (resume hook).
                connection.Dropped = false;
                await connection.Dispatcher.DroppedOrResumedAsync(resumed: true);
            }

            return new TakeOverResult(null, handled, acknowledged, frames, holder.Holding);
        }
        finally
        {
            connection.Deliveries.Release();
        }
    }

    public async Task AbandonTakeOver(ClusterUser by)
    {
        var byKey = (by.GatewayId, by.Session);
        RemoteConnection? connection;
        lock (_lock)
        {
            _abandoned.Add(byKey);
            connection = SwitchedToLocked(byKey);
            if (connection is not null)
            {
                // Marked at once, not after the wait below: a resume that comes while the takeover's resume hook still
                // runs finds the user (as one held for resume) and queues behind this on the user's deliveries.
                connection.AbandonPending = true;
            }
        }

        if (connection is null)
        {
            // Not switched: nothing to undo (this call may have activated the grain).
            DeactivateIfNeverOpened();
            return;
        }

        // A takeover call still running (in the resume hook) finishes first.
        await connection.Deliveries.WaitAsync();
        try
        {
            bool hold;
            ClusterMove? move;
            lock (_lock)
            {
                connection.AbandonPending = false;
                if (connection.LastSwitchBy(by) is null || connection.HeldForResume || !ReferenceEquals(SwitchedToLocked(byKey), connection))
                {
                    return;
                }

                // As if the gateway had died: the client, told to try again, resumes through another (or the same) one.
                // Unless room code moved the user on before the gateway had them: in no room, they cannot be held.
                move = _movedAway.TryGetValue(byKey, out var away) ? away.Move : null;
                hold = move is null && connection.Tail is { BrokenReason: null } && node.ResumeGracePeriod > TimeSpan.Zero;
                connection.HeldForResume = hold;
            }

            if (hold)
            {
                await HoldForResumeAsync(connection, by.GatewayId);
            }
            else
            {
                await EndUnkeptAsync(connection, byKey, "the session could not be kept: " + (
                    move is not null ? $"room code moved the user to room {move.Target} while their resume was being given up"
                    : connection.Tail?.BrokenReason ?? "it is not resumable"));
            }
        }
        finally
        {
            connection.Deliveries.Release();
        }
    }

    /// <summary>
    /// The user switched to <paramref name="byKey"/> cannot be handed over (their frames are gone): their session ends
    /// here, with <paramref name="reason"/> for a later resume, and they leave the room (if room code had not moved them
    /// on). Returns the refusal to answer.
    /// </summary>
    private async Task<TakeOverResult> EndUnkeptAsync(RemoteConnection connection, (string Gateway, long Session) byKey, string reason)
    {
        (ClusterMove Move, RemoteConnection Connection) away;
        lock (_lock)
        {
            RemoveLocked(byKey, connection);
            _movedAway.Remove(byKey, out away);
        }

        if (away.Move is { } move)
        {
            // Moved on by room code, but no gateway will enter them there.
            await ReleaseMoveTargetSeatAsync(move, connection);
        }

        await EndStayAsync(connection, reason, recordEnd: reason);
        DeactivateIfDoneAfterDispose();
        return new TakeOverResult(reason, 0, 0, null);
    }

    /// <summary>Holds a seat in <paramref name="room"/> for a user on their way in (see <see cref="SeatReservations"/>); null, or why not.</summary>
    private string? HoldReservedSeat(Room room, bool force, string? holder)
    {
        if (room.Members.TryHoldSeat(force) is { } refusal)
        {
            return refusal;
        }

        lock (_lock)
        {
            bool first = _seats.Count == 0;
            _seats.Add(holder);
            if (first)
            {
                // Otherwise the timer is set for an older seat, and sets itself again for the next when it fires.
                _seatTimer ??= node.Time.CreateTimer(static grain => ((RoomGrain)grain!).GiveBackExpiredSeats(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                _seatTimer.Change(node.SeatReservationTimeout, Timeout.InfiniteTimeSpan);
            }
        }

        return null;
    }

    /// <summary>Takes a seat held here for <paramref name="holder"/> on their way in (they entered with it, or it is given back); false if the room gave it back already.</summary>
    private bool TakeReservedSeat(string? holder)
    {
        lock (_lock)
        {
            return _seats.TryTake(holder);
        }
    }

    /// <summary>Gives back the seat held in <paramref name="room"/> for <paramref name="holder"/>, if the room has not already.</summary>
    private void GiveBackReservedSeat(Room room, string? holder)
    {
        if (TakeReservedSeat(holder))
        {
            room.ReleaseSeat();
            OrleansLog.SeatGivenBack(node.Logger, Id, room.Members.Occupied);
        }
    }

    /// <summary>The seat timer's callback: gives back the seats held longer than the timeout (their users never came).</summary>
    private void GiveBackExpiredSeats()
    {
        int expired;
        lock (_lock)
        {
            expired = _seats.TakeExpired();
            if (_seats.UntilNextExpiry() is { } next)
            {
                _seatTimer?.Change(next, Timeout.InfiniteTimeSpan);
            }
        }

        if (expired > 0 && _opening is { IsCompletedSuccessfully: true } opening)
        {
            for (int i = 0; i < expired; i++)
            {
                opening.Result.ReleaseSeat();
            }

            // Logged once given back, as the message says (tests wait for it).
            OrleansLog.SeatsGivenBack(node.Logger, Id, expired, node.SeatReservationTimeout.TotalSeconds);
        }
    }

    /// <summary>Gives back the seat room code's <paramref name="move"/> holds in its target for <paramref name="connection"/>'s user, who will not come.</summary>
    private async Task ReleaseMoveTargetSeatAsync(ClusterMove move, RemoteConnection connection)
    {
        try
        {
            await RoomCalls.CallAsync(() => node.Room(move.Target).ReleaseSeat(move.TargetType, connection.ClusterUser.SeatHolder), node.Time);
        }
        catch (Exception ex)
        {
            // The target gives it back itself after SeatReservationTimeout.
            OrleansLog.ClusterCallFailed(node.Logger, ex, connection.User.Name);
        }
    }

    /// <summary>The user whose identity here is <paramref name="byKey"/>, or was until room code moved them on; under the lock.</summary>
    private RemoteConnection? SwitchedToLocked((string Gateway, long Session) byKey) =>
        _users.TryGetValue(byKey, out RemoteConnection? connection) ? connection
        : _movedAway.TryGetValue(byKey, out var away) ? away.Connection
        : null;

    /// <summary>Why a takeover of the session <paramref name="key"/> (no longer here under that identity) is refused; under the lock.</summary>
    private string NotHereRefusal((string Gateway, long Session) key) =>
        _takenOver.Contains(key) || _users.Values.Any(c => c.FormerIdentities.Contains(key)) ? TakenOverRefusal
        : _movedAway.ContainsKey(key) ? "the session was moving between rooms"
        : $"the session is no longer in room {Id}";

    public async Task SendToUser(ClusterUser user, byte[] frame, long handled)
    {
        RemoteConnection? connection;
        lock (_lock)
        {
            _users.TryGetValue((user.GatewayId, user.Session), out connection);
        }

        if (connection is null)
        {
            // Not here (restarted elsewhere meanwhile): straight to the gateway, as the room would have sent it.
            await user.Gateway.Receive(0, 0, GatewayRecordsFrame(user.Session, frame));
            return;
        }

        await connection.Deliveries.WaitAsync();
        try
        {
            connection.Handled = Math.Max(connection.Handled, handled);
            connection.SendFrameFromGateway(frame);
            await connection.Outbox.DrainAsync();
        }
        finally
        {
            connection.Deliveries.Release();
        }
    }

    public Task Acknowledge(string gatewayId, long[] sessions, long[] received)
    {
        lock (_lock)
        {
            for (int i = 0; i < sessions.Length && i < received.Length; i++)
            {
                if (_users.TryGetValue((gatewayId, sessions[i]), out RemoteConnection? connection))
                {
                    // More than was sent cannot come from an honest gateway: ignored.
                    connection.Tail?.Acknowledge(received[i]);
                }
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>A user held since their gateway died was not resumed in time: they leave, and their session's record goes.</summary>
    internal async Task LetHeldUserGoAsync(RemoteConnection connection)
    {
        ClusterUser user = connection.ClusterUser;
        lock (_lock)
        {
            // The timer may fire as a takeover switches the user (which ends the hold under this lock): then they stay.
            if (!connection.HeldForResume || !RemoveLocked((user.GatewayId, user.Session), connection))
            {
                return;
            }
        }

        connection.Grace?.Dispose();
        OrleansLog.HeldUserLeft(node.Logger, Id, user.Name, user.GatewayId);
        await EndStayAsync(
            connection,
            "its gateway is gone and the session was not resumed in time",
            $"the session expired: the client did not come back within the grace period of {node.ResumeGracePeriod.TotalSeconds:0.###} s");

        // No DeactivateIfDoneAfterDispose here, unlike the other two ends: this runs on the grace timer's thread, outside
        // the grain's context, where the grain cannot deactivate itself; if the leave empties the room, its disposal
        // calls the grain (RoomDisposed), which does it.
    }

    /// <summary>
    /// Ends the stay of <paramref name="connection"/>'s user, whom the caller has taken out of the room's maps, without
    /// their gateway (it died, or cannot be handed the user): if <paramref name="recordEnd"/> says why, their session's
    /// record ends with it, nothing more is sent to them (<paramref name="gone"/> says why), and they leave (leave hook).
    /// </summary>
    private async Task EndStayAsync(RemoteConnection connection, string gone, string? recordEnd)
    {
        if (recordEnd is not null)
        {
            // The record goes first: a resume that comes meanwhile is refused with the reason, not sent to a room the
            // user is leaving.
            await EndSessionRecordAsync(connection, recordEnd);
        }

        connection.MarkGone(gone);
        await connection.Dispatcher.EndAsync();
    }

    /// <summary>
    /// Ends a resumable user's session record with <paramref name="reason"/> (told to a resume that comes later), under
    /// each identity they had here: the record names an older one if a takeover could not update it.
    /// </summary>
    private async Task EndSessionRecordAsync(RemoteConnection connection, string reason)
    {
        ClusterUser user = connection.ClusterUser;
        if (user.ResumeKey is not { } resumeKey)
        {
            return;
        }

        (string Gateway, long Session)[] former;
        lock (_lock)
        {
            former = [.. connection.FormerIdentities];
        }

        try
        {
            ISessionGrain record = node.Grains.GetGrain<ISessionGrain>(resumeKey);
            await RoomCalls.CallAsync(() => record.End(user.GatewayId, user.Session, reason), node.Time);
            foreach (var (gatewayId, session) in former)
            {
                await RoomCalls.CallAsync(() => record.End(gatewayId, session, reason), node.Time);
            }
        }
        catch (Exception ex)
        {
            // The user leaves all the same; a resume of theirs then finds them gone from the room.
            OrleansLog.SessionRecordFailed(node.Logger, ex, user.Name);
        }
    }

    public Task<ClusterRoomInfo?> Info()
    {
        if (_opening is not { IsCompletedSuccessfully: true } opening)
        {
            DeactivateIfNeverOpened();
            return Task.FromResult<ClusterRoomInfo?>(null);
        }

        Room room = opening.Result;
        long backlog;
        lock (_lock)
        {
            backlog = _outboxes.Values.Sum(outbox => outbox.Backlog);
        }

        return Task.FromResult<ClusterRoomInfo?>(new ClusterRoomInfo(room.Id, room.Type, room.Members.Occupied, room.Capacity, room.IsLocked, backlog));
    }

    public Task MoveSeen(ClusterUser user)
    {
        lock (_lock)
        {
            _movedAway.Remove((user.GatewayId, user.Session));
        }

        DeactivateIfDoneAfterDispose();
        return Task.CompletedTask;
    }

    public Task RoomDisposed()
    {
        bool movesUnseen;
        lock (_lock)
        {
            _roomDisposed = true;

            // A user room code is moving out (who emptied the room) is recorded as moved away only once they have left:
            // a deactivation asked for before that could not be taken back.
            movesUnseen = _movedAway.Count > 0 || _movesUnderWay > 0;
        }

        if (movesUnseen)
        {
            // A move whose gateway never says it saw it (it let the user go, or the call was lost) must not keep the
            // grain active for good: past this, nobody is still coming for it.
            _lastMovesKept ??= this.RegisterGrainTimer(static (grain, _) =>
            {
                grain.DeactivateOnIdle();
                return Task.CompletedTask;
            }, this, new GrainTimerCreationOptions(UnseenMovesKept, Timeout.InfiniteTimeSpan));
        }

        DeactivateIfDoneAfterDispose();
        return Task.CompletedTask;
    }

    /// <summary>How long a disposed room's grain stays active for moves its users' gateways have not seen yet, at most.</summary>
    private TimeSpan UnseenMovesKept => TimeSpan.FromSeconds(Math.Max(60, 3 * node.ResumeGracePeriod.TotalSeconds));

    /// <summary>
    /// Deactivates the grain once its room is disposed and no move room code made is still unseen by its user's gateway:
    /// until then a delivery, or a takeover tried again, must find the move here (a user moving out empties the room).
    /// </summary>
    private void DeactivateIfDoneAfterDispose()
    {
        lock (_lock)
        {
            if (!_roomDisposed || _movedAway.Count > 0 || _movesUnderWay > 0)
            {
                return;
            }
        }

        DeactivateOnIdle();
    }

    /// <summary>Deactivates the grain if its room was never opened here: the call that found no room activated it for nothing.</summary>
    private void DeactivateIfNeverOpened()
    {
        if (_opening is null)
        {
            DeactivateOnIdle();
        }
    }

    /// <summary>Room code is moving a user out (before they leave): the grain stays until <see cref="MoveEnded"/>.</summary>
    internal void MoveStarting()
    {
        lock (_lock)
        {
            _movesUnderWay++;
        }
    }

    /// <summary>
    /// The move begun by <see cref="MoveStarting"/> is over (recorded by <see cref="MovedAway"/>, or failed). Whether the
    /// grain may go is decided by the next grain call (MoveSeen, say) or the timer set at the disposal: this may run
    /// outside the grain's context (a room's timer), where it cannot deactivate the grain.
    /// </summary>
    internal void MoveEnded()
    {
        lock (_lock)
        {
            _movesUnderWay--;
        }
    }

    /// <summary>Room code moved <paramref name="connection"/>'s user to a room elsewhere: their gateway is told, after what the room sent them.</summary>
    internal void MovedAway(RemoteConnection connection, ClusterMove move)
    {
        var key = (connection.ClusterUser.GatewayId, connection.ClusterUser.Session);
        lock (_lock)
        {
            RemoveLocked(key, connection);
            _movedAway[key] = (move, connection);
        }

        connection.PendingMove = move;
        connection.Outbox.AddMove(key.Session, move);
        connection.MarkGone("moved to room " + move.Target);
    }

    private void Forget(RemoteConnection connection)
    {
        lock (_lock)
        {
            RemoveLocked((connection.ClusterUser.GatewayId, connection.ClusterUser.Session), connection);
        }
    }

    /// <summary>Takes the user out of the room's users if <paramref name="key"/> still names <paramref name="connection"/> (not a later stay); under the lock.</summary>
    private bool RemoveLocked((string Gateway, long Session) key, RemoteConnection connection) =>
        _users.TryGetValue(key, out RemoteConnection? current) && ReferenceEquals(current, connection) && _users.Remove(key);

    /// <summary>What the room keeps of a resumable user's frames, continuing their session's numbering; null for others.</summary>
    private ReplayLog? TailFor(ClusterUser user, SentFrames? sent)
    {
        if (!user.Resumable || user.ResumeKey is null || sent is null)
        {
            return null;
        }

        var tail = new ReplayLog(node.MaxUnacknowledgedBytes);
        tail.StartAt(sent.Acknowledged);
        if (sent.Frames is null)
        {
            tail.Break("the session could no longer be resumed when the user entered");
        }
        else
        {
            tail.AppendFrames(sent.Frames);
        }

        return tail;
    }

    private static byte[] GatewayRecordsFrame(long session, byte[] frame)
    {
        var writer = new System.Buffers.ArrayBufferWriter<byte>(frame.Length + 16);
        GatewayRecords.WriteFrame(writer, session, frame);
        return writer.WrittenSpan.ToArray();
    }

    private GatewayOutbox OutboxFor(ClusterUser user)
    {
        lock (_lock)
        {
            if (!_outboxes.TryGetValue(user.GatewayId, out GatewayOutbox? outbox) || outbox.IsDead)
            {
                string gatewayId = user.GatewayId;
                outbox = new GatewayOutbox(Id, gatewayId, user.Gateway, node.Logger, () => node.IsSiloGone(gatewayId), node.MaxOutboxBacklog, OutboxOverflowed, node.Time, node.MaxOutboxAge);
                _outboxes[user.GatewayId] = outbox;
                foreach (var (key, reason) in _endedByOverflow)
                {
                    if (key.Gateway == gatewayId)
                    {
                        // The gateway takes calls again (or is tried again): it first hears that these users' stays ended.
                        outbox.AddClose(key.Session, reason);
                    }
                }
            }

            return outbox;
        }
    }

    /// <summary>An outbox passed its bound (<see cref="GatewayOutbox"/>): on a thread-pool thread, off the sender's stack.</summary>
    private void OutboxOverflowed(GatewayOutbox outbox) => _ = EndStaysOfOverflowedAsync(outbox);

    /// <summary>
    /// More than the bound waited for a gateway that did not take the room's calls, or what waited grew older than the
    /// age bound (<see cref="GatewayOutbox.Expired"/>), and the outbox let it go: the room
    /// ends the stays of that gateway's users here (leave hooks, seats given back), as it does for a dead gateway, and
    /// remembers why, so the gateway closes their sessions with the reason when it hears from the room again: at
    /// once, through a new outbox that carries only those closes, if the gateway takes calls again before they too are
    /// older than the age bound; else at its next delivery for them, or in the next outbox another of its users needs.
    /// A resumable user's session record ends too: the frames a resume would replay are lost.
    /// </summary>
    private async Task EndStaysOfOverflowedAsync(GatewayOutbox outbox)
    {
        string gatewayId = outbox.GatewayId;
        string reason = outbox.Expired
            ? $"room {Id} could not reach your gateway: what waited for it was more than {outbox.MaxAge.TotalSeconds:0.###} s old"
            : $"room {Id} could not reach your gateway: more than {outbox.MaxBacklog} bytes waited for it";
        List<RemoteConnection> ended;
        List<(ClusterMove Move, RemoteConnection Connection)> moved;
        lock (_lock)
        {
            if (_outboxes.TryGetValue(gatewayId, out GatewayOutbox? current) && ReferenceEquals(current, outbox))
            {
                _outboxes.Remove(gatewayId);
            }

            ended = [.. _users.Values.Where(c => ReferenceEquals(c.Outbox, outbox) && !c.HeldForResume)];
            foreach (RemoteConnection connection in ended)
            {
                var key = (connection.ClusterUser.GatewayId, connection.ClusterUser.Session);
                _users.Remove(key);
                _endedByOverflow[key] = reason;
            }

            moved = [.. _movedAway.Values.Where(a => ReferenceEquals(a.Connection.Outbox, outbox))];
            foreach (var (_, connection) in moved)
            {
                // Their gateway never had the move: it is told their stay here ended instead.
                var key = (connection.ClusterUser.GatewayId, connection.ClusterUser.Session);
                _movedAway.Remove(key);
                _endedByOverflow[key] = reason;
            }
        }

        if (outbox.Expired)
        {
            OrleansLog.OutboxExpired(node.Logger, Id, gatewayId, outbox.MaxAge.TotalSeconds, ended.Count + moved.Count);
        }
        else
        {
            OrleansLog.OutboxOverflowed(node.Logger, Id, gatewayId, outbox.MaxBacklog, ended.Count + moved.Count);
        }
        foreach (RemoteConnection connection in ended)
        {
            try
            {
                string? recordEnd = connection.ClusterUser.ResumeKey is not null ? "the session could not be kept: " + reason : null;
                await EndStayAsync(connection, reason, recordEnd);
            }
            catch (Exception ex)
            {
                OrleansLog.StayNotEnded(node.Logger, ex, Id, connection.User.Name);
            }
        }

        foreach (var (move, connection) in moved)
        {
            try
            {
                await ReleaseMoveTargetSeatAsync(move, connection);
            }
            catch (Exception ex)
            {
                OrleansLog.StayNotEnded(node.Logger, ex, Id, connection.User.Name);
            }
        }

        // The gateway is told at once, not only when the room next writes to it: a new outbox for it starts with the
        // closes of those sessions (OutboxFor adds them), made again like any call until the gateway takes it, dies, or
        // the closes pass the bounds in their turn (then no user is left to end, and nothing more is tried).
        if (ended.Select(c => c.ClusterUser).Concat(moved.Select(m => m.Connection.ClusterUser)).FirstOrDefault() is { } anyone)
        {
            _ = OutboxFor(anyone);
        }

        DeactivateIfDoneAfterDispose();
    }

    private Task<Room> OpenAsync(string type)
    {
        lock (_lock)
        {
            return _opening ??= CreateRoomAsync(type);
        }
    }

    private async Task<Room> CreateRoomAsync(string type)
    {
        Room room = node.Make(type, out RoomTypeOptions options, out bool isEntry);
        await node.Directory.AdoptAsync(room, Id, type, options, isEntry);
        if (!isEntry)
        {
            // The room's type grain hears of it before anyone is told it exists, and of each change from then on.
            var listing = new ListingReporter(room, GrainFactory.GetGrain<IRoomTypeGrain>(type), node.Silo, node.Logger, node.Time);
            _listing = listing;
            node.Listed(Id, listing);
            room.Members.Changed = listing.Changed;
            await listing.ReportNowAsync();
        }

        OrleansLog.RoomActivated(node.Logger, Id, type, restored: false);
        return room;
    }
}
