using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Orleans.Runtime.Placement;
using Wevis.Rooms;

namespace Wevis.Orleans;

/// <summary>
/// This node's part of the cluster's rooms: the directory that the rooms hosted by this node's grains are attached to
/// (for encoding, the clock, logging), the room types, and what that directory does across the cluster (find, list,
/// create, close, and the moves room code makes), which goes through grains because the rooms may live on other nodes.
/// </summary>
internal sealed class NodeRooms : IClusterRooms
{
    private readonly WevisClusterOptions _options;
    private readonly ConcurrentDictionary<string, byte> _active = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ListingReporter> _listings = new(StringComparer.Ordinal);
    private readonly SiloAddress _silo;

    public NodeRooms(WevisClusterOptions options, IGrainFactory grains, ILoggerFactory loggerFactory, SiloAddress silo)
    {
        _options = options;
        Grains = grains;
        _silo = silo;
        Silo = silo.ToParsableString();
        ServerOptions server = options.Gateway;
        Messages = server.Messages ?? MessageRegistry.Default;
        WireMessages = MessageRegistry.Combine(WevisRegistry.Messages, Messages);
        LoggerFactory = server.LoggerFactory ?? loggerFactory;
        Logger = LoggerFactory.CreateLogger("Wevis.Orleans");
        Directory = new RoomDirectory(new NoEntryRoom());
        Directory.Start(WireMessages, server.MaxFrameSize, server.MaxRooms, server.TimeProvider, LoggerFactory, new object());
        Directory.Cluster = this;
    }

    public IGrainFactory Grains { get; }

    /// <summary>The cluster's membership, as this silo sees it (resolved when first needed); null outside a silo (tests).</summary>
    public Lazy<IClusterMembershipService?>? Membership { get; init; }

    /// <summary>
    /// Whether the silo <paramref name="silo"/> (its parsable address) is dead or leaving, or this one is, as the cluster's
    /// membership says: then a room stops calling that silo's gateway (its users leave when the room hears of the death).
    /// </summary>
    public bool IsSiloGone(string silo)
    {
        if (Membership?.Value?.CurrentSnapshot is not { } snapshot)
        {
            return false;
        }

        return Leaving(snapshot.GetSiloStatus(SiloAddress.FromParsableString(silo))) || Leaving(snapshot.GetSiloStatus(_silo));

        static bool Leaving(SiloStatus status) => status is SiloStatus.Dead or SiloStatus.ShuttingDown or SiloStatus.Stopping;
    }

    /// <summary>This node's silo address, as listings name it.</summary>
    public string Silo { get; }

    /// <summary>Where persistent rooms on this node keep their state.</summary>
    public IRoomStateStore? StateStore
    {
        get => Directory.StateStore;
        init => Directory.StateStore = value;
    }

    public RoomDirectory Directory { get; }

    public MessageRegistry Messages { get; }

    /// <summary>The server's messages and the protocol's: what gateways forward and rooms decode.</summary>
    public MessageRegistry WireMessages { get; }

    public int MaxFrameSize => _options.Gateway.MaxFrameSize;

    /// <summary>How long a room holds a resumable user whose gateway died, for them to resume at another gateway.</summary>
    public TimeSpan ResumeGracePeriod => _options.Gateway.ResumeGracePeriod;

    /// <summary>The most bytes a room keeps per resumable user, unacknowledged by their client (as a gateway's session does).</summary>
    public long MaxUnacknowledgedBytes => _options.Gateway.MaxUnacknowledgedBytes;

    /// <summary>The most a room's outbox holds for a gateway that does not take its calls (<see cref="GatewayOutbox"/>): the gateway's per-connection bound.</summary>
    public long MaxOutboxBacklog => _options.Gateway.MaxQueuedBytesPerConnection;

    /// <summary>The longest a room's outbox keeps records for a gateway that does not take its calls.</summary>
    public TimeSpan MaxOutboxAge => _options.MaxGatewayBacklogAge;

    public TimeProvider Time => _options.Gateway.TimeProvider;

    /// <summary>How long a room keeps a seat held for a user on their way in before giving it back.</summary>
    public TimeSpan SeatReservationTimeout => _options.SeatReservationTimeout;

    public ILoggerFactory LoggerFactory { get; }

    public ILogger Logger { get; }

    /// <summary>The ids of the rooms active on this node.</summary>
    public ICollection<string> ActiveRooms => _active.Keys;

    public IRoomGrain Room(string id) => Grains.GetGrain<IRoomGrain>(id);

    public bool TryGetType(string type, out RoomTypeOptions options) => _options.TryGetType(type, out _, out options!);

    /// <summary>The type of the room with <paramref name="id"/>: the entry room's, or the defined type its id starts with; null if none.</summary>
    public string? TypeOfId(string id) => _options.TypeOfId(id);

    /// <summary>Makes a room of <paramref name="type"/> for a grain, with its settings.</summary>
    public Room Make(string type, out RoomTypeOptions options, out bool isEntry)
    {
        isEntry = type == RoomDirectory.EntryRoomName;
        if (isEntry)
        {
            options = new RoomTypeOptions { AutoDispose = false };
            return _options.EntryRoom!() ?? throw new InvalidOperationException("The entry room's factory returned null.");
        }

        if (!_options.TryGetType(type, out Func<Room>? factory, out RoomTypeOptions? typeOptions))
        {
            throw new ArgumentException($"There is no room type named '{type}'; define it with WevisClusterOptions.Define.", nameof(type));
        }

        options = typeOptions;
        return factory() ?? throw new InvalidOperationException($"The factory of room type '{type}' returned null.");
    }

    public void Activated(string id) => _active[id] = 0;

    public void Deactivated(string id) => _active.TryRemove(id, out _);

    public async ValueTask<JoinResult> JoinOrCreateFromRoomAsync(Room from, Connection connection, string type)
    {
        if (!_options.TryGetType(type, out _, out _))
        {
            throw new ArgumentException($"There is no room type named '{type}'; define it with WevisClusterOptions.Define.", nameof(type));
        }

        SeatAnswer answer = await Grains.GetGrain<IRoomTypeGrain>(type).JoinOrCreate(mayCreate: true, SeatHolderOf(connection)).ConfigureAwait(false);
        return answer.RoomId is { } target
            ? await MoveOutAsync(from, connection, target, type, string.Empty).ConfigureAwait(false)
            : JoinResult.Refused(answer.Refusal!);
    }

    public async ValueTask<JoinResult> MoveFromRoomAsync(Room from, Connection connection, string targetId, string reason, bool force)
    {
        if (targetId == from.Id)
        {
            return JoinResult.Refused($"already in room {targetId}");
        }

        if (TypeOfId(targetId) is not { } type)
        {
            return JoinResult.Refused($"there is no room '{targetId}'");
        }

        string? refusal = await Room(targetId).HoldSeat(type, force, create: type == RoomDirectory.EntryRoomName, SeatHolderOf(connection)).ConfigureAwait(false);
        return refusal is null
            ? await MoveOutAsync(from, connection, targetId, type, reason).ConfigureAwait(false)
            : JoinResult.Refused(refusal);
    }

    /// <summary>Who a seat held for <paramref name="connection"/>'s move is for (a user on this node's rooms is a remote connection).</summary>
    private static string? SeatHolderOf(Connection connection) => (connection as RemoteConnection)?.ClusterUser.SeatHolder;

    /// <summary>A room on this node reports its listing to its type's grain with <paramref name="listing"/>.</summary>
    public void Listed(string id, ListingReporter listing) => _listings[id] = listing;

    /// <summary>Every room on this node reports its listing again (a silo died, and a type grain with it, maybe).</summary>
    public void ListAllAgain()
    {
        foreach (ListingReporter listing in _listings.Values)
        {
            listing.Changed();
        }
    }

    /// <summary>The room types' names.</summary>
    public IEnumerable<string> TypeNames => _options.TypeNames;

    public void Removed(Room room)
    {
        // Its listing reporter has told the type grain (the room's members changed to disposed).
        _ = Room(room.Id).RoomDisposed();
        _listings.TryRemove(room.Id, out _);
    }

    public async Task<RoomInfo?> FindAsync(string id)
    {
        if (id == RoomDirectory.EntryRoomName)
        {
            return (await Room(id).Info().ConfigureAwait(false))?.ToRoomInfo();
        }

        return TypeOfId(id) is { } type && await Grains.GetGrain<IRoomTypeGrain>(type).Find(id).ConfigureAwait(false) is { } info
            ? info.ToRoomInfo()
            : null;
    }

    public async Task<IReadOnlyList<RoomInfo>> ListAsync(string? type)
    {
        string[] types = type is null ? [RoomDirectory.EntryRoomName, .. TypeNames]
            : type == RoomDirectory.EntryRoomName || _options.TryGetType(type, out _, out _) ? [type]
            : [];
        ClusterRoomInfo[][] lists = await Task.WhenAll(types.Select(ListTypeAsync)).ConfigureAwait(false);
        return [.. lists.SelectMany(list => list).Select(info => info.ToRoomInfo()).OrderBy(info => info.Id, StringComparer.Ordinal)];
    }

    public async Task<Room> CreateAsync(string type, string? id)
    {
        if (!_options.TryGetType(type, out _, out _))
        {
            throw new ArgumentException($"There is no room type named '{type}'; define it with WevisClusterOptions.Define.", nameof(type));
        }

        if (id is null)
        {
            id = await Grains.GetGrain<IRoomTypeGrain>(type).NewId().ConfigureAwait(false);
        }
        else if (TypeOfId(id) != type)
        {
            // A room's grain makes the room from its id alone, so the id must name the type.
            throw new ArgumentException($"On a cluster a room's id starts with its type and '-' ('{type}-…'), so every node can tell its type: '{id}' does not.", nameof(id));
        }

        // Made on this node (Orleans' random placement takes the hint), so the caller gets the room itself, as on one server.
        RequestContext.Set(IPlacementDirector.PlacementHintKey, _silo);
        bool made;
        try
        {
            made = await Room(id).Open(type).ConfigureAwait(false);
        }
        finally
        {
            RequestContext.Remove(IPlacementDirector.PlacementHintKey);
        }

        if (!made)
        {
            throw new ArgumentException($"There is already a room with id '{id}'.", nameof(id));
        }

        return Directory.Find(id) ?? throw new InvalidOperationException($"Room {id} was made on another node (its grain was active there already).");
    }

    public async Task CloseAsync(string id, string reason, bool disconnect)
    {
        if (id == RoomDirectory.EntryRoomName)
        {
            throw new InvalidOperationException("The entry room cannot be closed; stop the server instead.");
        }

        if (TypeOfId(id) is null || !await Room(id).Close(reason, disconnect).ConfigureAwait(false))
        {
            throw new ArgumentException($"There is no room '{id}'.", nameof(id));
        }
    }

    public Task<JoinResult> MoveFromOutsideAsync(Connection connection, string targetId) =>
        InRoomOfAsync(connection, (from, connection) => MoveFromRoomAsync(from, connection, targetId, string.Empty, force: false));

    public Task<JoinResult> JoinOrCreateFromOutsideAsync(Connection connection, string type) =>
        InRoomOfAsync(connection, (from, connection) => JoinOrCreateFromRoomAsync(from, connection, type));

    /// <summary>
    /// Runs a move in the turn of the user's room (on this node), as room code would; completes when the user has left
    /// it and their gateway has been told where to take them.
    /// </summary>
    private static async Task<JoinResult> InRoomOfAsync(Connection connection, Func<Room, Connection, ValueTask<JoinResult>> move)
    {
        if (connection.Room is not { } from)
        {
            throw new InvalidOperationException($"{connection.User.Name} is not in a room on this node.");
        }

        JoinResult result = default;
        await from.InvokeAsync(async () => result = await move(from, connection).ConfigureAwait(false)).ConfigureAwait(false);
        return result;
    }

    private Task<ClusterRoomInfo[]> ListTypeAsync(string type) => type == RoomDirectory.EntryRoomName
        ? Room(type).Info().ContinueWith(static info => info.Result is { } lobby ? new[] { lobby } : [], TaskScheduler.Default)
        : Grains.GetGrain<IRoomTypeGrain>(type).List();

    /// <summary>The user leaves <paramref name="from"/> now (room code holds its turn); their gateway takes them to the target, where a seat is held.</summary>
    private async ValueTask<JoinResult> MoveOutAsync(Room from, Connection connection, string target, string type, string reason)
    {
        if (connection is not RemoteConnection remote)
        {
            _ = Room(target).ReleaseSeat(type, null);
            throw new InvalidOperationException($"{connection.User.Name} is not in room {from.Id}.");
        }

        // Counted from before the leave: the leave may empty the room, and its grain must not go before the move is recorded.
        remote.Host.MoveStarting();
        try
        {
            if (!await remote.Dispatcher.LeaveForRoomElsewhereAsync(from).ConfigureAwait(false))
            {
                _ = Room(target).ReleaseSeat(type, remote.ClusterUser.SeatHolder);
                throw new InvalidOperationException($"{connection.User.Name} is not in room {from.Id}.");
            }

            remote.Host.MovedAway(remote, new ClusterMove(from.Id, target, type, reason));
        }
        finally
        {
            remote.Host.MoveEnded();
        }

        return JoinResult.IntoRoomElsewhere(target);
    }
}
