using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Wevis.Rooms;

namespace Wevis.Orleans;

/// <summary>
/// This node's part of the cluster's rooms: the directory that the rooms hosted by this node's grains are attached to
/// (for encoding, the clock, logging), the room types, and the moves room code makes, which go through grains
/// because the target may live on another node.
/// </summary>
internal sealed class NodeRooms : IClusterRooms
{
    private readonly WevisClusterOptions _options;
    private readonly ConcurrentDictionary<string, byte> _active = new(StringComparer.Ordinal);

    public NodeRooms(WevisClusterOptions options, IGrainFactory grains, ILoggerFactory loggerFactory)
    {
        _options = options;
        Grains = grains;
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

        SeatAnswer answer = await Grains.GetGrain<IRoomTypeGrain>(type).JoinOrCreate(mayCreate: true).ConfigureAwait(false);
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

        string? refusal = await Room(targetId).HoldSeat(type, force, create: type == RoomDirectory.EntryRoomName).ConfigureAwait(false);
        return refusal is null
            ? await MoveOutAsync(from, connection, targetId, type, reason).ConfigureAwait(false)
            : JoinResult.Refused(refusal);
    }

    public void Removed(Room room)
    {
        _ = Room(room.Id).RoomDisposed();
        if (!room.IsEntryRoom)
        {
            _ = Grains.GetGrain<IRoomTypeGrain>(room.Type).Forget(room.Id);
        }
    }

    /// <summary>The user leaves <paramref name="from"/> now (room code holds its turn); their gateway takes them to the target, where a seat is held.</summary>
    private async ValueTask<JoinResult> MoveOutAsync(Room from, Connection connection, string target, string type, string reason)
    {
        if (connection is not RemoteConnection remote || !await remote.Dispatcher.LeaveForRoomElsewhereAsync(from).ConfigureAwait(false))
        {
            _ = Room(target).ReleaseSeat(type);
            throw new InvalidOperationException($"{connection.User.Name} is not in room {from.Id}.");
        }

        remote.Host.MovedAway(remote, new ClusterMove(from.Id, target, type, reason));
        return JoinResult.IntoRoomElsewhere(target);
    }
}
