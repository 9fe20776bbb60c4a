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
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Gateway, long Session), RemoteConnection> _users = [];
    private readonly Dictionary<(string Gateway, long Session), ClusterMove> _movedAway = [];
    private readonly Dictionary<string, GatewayOutbox> _outboxes = new(StringComparer.Ordinal);
    private Task<Room>? _opening;
    private ListingReporter? _listing;

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
        return Task.CompletedTask;
    }

    public async Task<string?> HoldSeat(string type, bool force, bool create)
    {
        if (!create && _opening is null)
        {
            DeactivateOnIdle();
            return $"there is no room '{Id}'";
        }

        Room room = await OpenAsync(type);
        return room.Members.TryHoldSeat(force);
    }

    public async Task ReleaseSeat(string type) => (await OpenAsync(type)).ReleaseSeat();

    public async Task<SeatForType> HoldSeatForType(string type)
    {
        Room room = await OpenAsync(type);
        string? refusal = room.Members.TryHoldSeat(force: false);
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

    public async Task<string?> Enter(ClusterUser user, string type, int request, string reason, bool seatHeld, bool force, long handled)
    {
        Room room = await OpenAsync(type);
        if (!seatHeld && room.Members.TryHoldSeat(force) is { } refusal)
        {
            return refusal;
        }

        var key = (user.GatewayId, user.Session);
        var connection = new RemoteConnection(user, OutboxFor(user), node, this) { Handled = handled };
        RemoteConnection? stale;
        lock (_lock)
        {
            _users.Remove(key, out stale);
            _movedAway.Remove(key);
            _users[key] = connection;
        }

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

        return refused;
    }

    public async Task<DeliverResult> Deliver(ClusterUser user, string type, byte[] frames, long first)
    {
        await OpenAsync(type);
        var key = (user.GatewayId, user.Session);
        RemoteConnection? connection;
        ClusterMove? move;
        lock (_lock)
        {
            _users.TryGetValue(key, out connection);
            _movedAway.TryGetValue(key, out move);
        }

        if (connection is null)
        {
            return move is not null ? new DeliverResult(0, false, move) : new DeliverResult(0, true, null);
        }

        // One delivery at a time per user: a call made again (its answer was lost, a timeout) waits for the first to finish.
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
            int skip = (int)Math.Clamp(connection.Handled - first, 0, messages.Count);
            int handled = await connection.Dispatcher.ReceiveHereAsync(messages, skip, messages.Count);
            connection.Handled = first + handled;
            if (handled < messages.Count && connection.PendingMove is { } moved)
            {
                // What the room sent before the move reaches the client before anything the next room sends.
                await connection.Outbox.DrainAsync();
                return new DeliverResult(handled, false, moved);
            }

            if (user.Resumable)
            {
                // The gateway acknowledges these messages to the client once this returns: what the room sent in
                // answer is at the gateway by then (in its replay log), so a node dying now loses no answer to an
                // acknowledged message.
                await connection.Outbox.DrainAsync();
            }

            return new DeliverResult(handled, false, null);
        }
        finally
        {
            connection.Deliveries.Release();
        }
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
            if (_opening is null)
            {
                DeactivateOnIdle();
            }

            return;
        }

        await connection.Dispatcher.DroppedOrResumedAsync(resumed);
    }

    public async Task Leave(ClusterUser user)
    {
        RemoteConnection? connection;
        lock (_lock)
        {
            _users.Remove((user.GatewayId, user.Session), out connection);
            _movedAway.Remove((user.GatewayId, user.Session));
        }

        if (connection is null)
        {
            if (_opening is null)
            {
                DeactivateOnIdle();
            }

            return;
        }

        await connection.Dispatcher.EndAsync();
        connection.MarkGone("left the room");
        await connection.Outbox.DrainAsync();
    }

    public async Task GatewayGone(string gatewayId)
    {
        List<RemoteConnection> gone;
        lock (_lock)
        {
            gone = [.. _users.Values.Where(c => c.ClusterUser.GatewayId == gatewayId)];
            foreach (RemoteConnection connection in gone)
            {
                _users.Remove((gatewayId, connection.ClusterUser.Session));
            }

            foreach (var key in _movedAway.Keys.Where(k => k.Gateway == gatewayId).ToList())
            {
                _movedAway.Remove(key);
            }

            _outboxes.Remove(gatewayId);
        }

        foreach (RemoteConnection connection in gone)
        {
            connection.MarkGone("its gateway is gone");
            await connection.Dispatcher.EndAsync();
        }
    }

    public Task<ClusterRoomInfo?> Info()
    {
        if (_opening is not { IsCompletedSuccessfully: true } opening)
        {
            if (_opening is null)
            {
                DeactivateOnIdle();
            }

            return Task.FromResult<ClusterRoomInfo?>(null);
        }

        Room room = opening.Result;
        return Task.FromResult<ClusterRoomInfo?>(new ClusterRoomInfo(room.Id, room.Type, room.Members.Occupied, room.Capacity, room.IsLocked));
    }

    public Task MoveSeen(ClusterUser user)
    {
        lock (_lock)
        {
            _movedAway.Remove((user.GatewayId, user.Session));
        }

        return Task.CompletedTask;
    }

    public Task RoomDisposed()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    /// <summary>Room code moved <paramref name="connection"/>'s user to a room elsewhere: their gateway is told, after what the room sent them.</summary>
    internal void MovedAway(RemoteConnection connection, ClusterMove move)
    {
        var key = (connection.ClusterUser.GatewayId, connection.ClusterUser.Session);
        lock (_lock)
        {
            if (_users.TryGetValue(key, out RemoteConnection? current) && ReferenceEquals(current, connection))
            {
                _users.Remove(key);
            }

            _movedAway[key] = move;
        }

        connection.PendingMove = move;
        connection.Outbox.AddMove(key.Session, move);
        connection.MarkGone("moved to room " + move.Target);
    }

    private void Forget(RemoteConnection connection)
    {
        lock (_lock)
        {
            var key = (connection.ClusterUser.GatewayId, connection.ClusterUser.Session);
            if (_users.TryGetValue(key, out RemoteConnection? current) && ReferenceEquals(current, connection))
            {
                _users.Remove(key);
            }
        }
    }

    private GatewayOutbox OutboxFor(ClusterUser user)
    {
        lock (_lock)
        {
            if (!_outboxes.TryGetValue(user.GatewayId, out GatewayOutbox? outbox) || outbox.IsDead)
            {
                outbox = new GatewayOutbox(Id, user.GatewayId, user.Gateway, node.Logger);
                _outboxes[user.GatewayId] = outbox;
            }

            return outbox;
        }
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
            var listing = new ListingReporter(room, GrainFactory.GetGrain<IRoomTypeGrain>(type), node.Silo, node.Logger);
            _listing = listing;
            node.Listed(Id, listing);
            room.Members.Changed = listing.Changed;
            await listing.ReportNowAsync();
        }

        OrleansLog.RoomActivated(node.Logger, Id, type, restored: false);
        return room;
    }
}
