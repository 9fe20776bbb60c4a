using Wevis.Serialization;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Wevis.Rooms;
using Wevis.Transport;

namespace Wevis;

/// <summary>
/// A server's rooms: the entry room every user enters after logging in (the lobby), and the rooms made at run
/// time, each an instance of a room type defined here. Find a room by id, list rooms with their counts, create
/// rooms, and move users between them; clients can ask for the same (<c>Client.JoinRoomAsync</c> and its kin).
/// </summary>
/// <remarks>
/// <para>Reach it as <see cref="Server.Rooms"/>, or <c>Rooms</c> from room code. Define room types before the
/// server starts, or at any time after.</para>
/// <para>Joining is atomic: a place in a room is held as soon as a join is accepted, so two users racing for a
/// room's last place cannot both get it, and <see cref="JoinOrCreateAsync"/> fills a room before it creates the
/// next.</para>
/// </remarks>
/// <example>
/// <code>
/// server.Rooms.Define("match", () => new MatchRoom(), new RoomTypeOptions { Capacity = 4 });
/// Room match = await server.Rooms.CreateAsync("match");
/// </code>
/// </example>
public sealed class RoomDirectory
{
    /// <summary>The entry room's id and type name.</summary>
    public const string EntryRoomName = "lobby";

    private readonly ConcurrentDictionary<string, Room> _rooms = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RoomType> _types = new(StringComparer.Ordinal);
    private long _nextId;

    internal RoomDirectory(Room entryRoom)
    {
        EntryRoom = entryRoom;
    }

    /// <summary>The room every user enters after logging in: the one given to the server's constructor.</summary>
    public Room EntryRoom { get; }

    /// <summary>How many rooms there are, the entry room included.</summary>
    public int Count => _rooms.Count;

    internal TimeProvider Time { get; private set; } = TimeProvider.System;

    internal ILogger Logger { get; private set; } = NullLogger.Instance;

    internal object FlushGroup { get; private set; } = new();

    internal bool IsRunning { get; set; }

    /// <summary>Whether the server is stopping: rooms emptied now keep their persistent state (it is not their end, but the server's).</summary>
    internal bool IsStopping { get; set; }

    /// <summary>Where persistent rooms keep their state; null: nowhere.</summary>
    internal IRoomStateStore? StateStore { get; set; }

    /// <summary>Persistent rooms being disposed whose state is still to be forgotten, by id.</summary>
    internal ForgottenStates ForgottenStates { get; } = new();

    /// <summary>Where rooms' own moves go when this directory is a node's in a cluster; null on a single server.</summary>
    internal IClusterRooms? Cluster { get; set; }

    /// <summary>The server's metrics, which rooms time their handlers and ticks with; null: not timed.</summary>
    internal Diagnostics.ServerMetrics? Metrics { get; set; }

    private MessageRegistry Outgoing { get; set; } = MessageRegistry.Empty;

    private int MaxFrameSize { get; set; } = int.MaxValue;

    private int MaxRooms { get; set; } = int.MaxValue;

    private ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Defines a room type: <paramref name="factory"/> makes each room of it.</summary>
    /// <param name="type">The type's name, which clients use to ask for its rooms.</param>
    /// <param name="factory">Makes a new room of the type.</param>
    /// <param name="options">The type's settings (capacity, what clients may do); null for the defaults.</param>
    /// <exception cref="ArgumentException">The name is empty, taken, or <c>lobby</c>.</exception>
    public void Define(string type, Func<Room> factory, RoomTypeOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(type);
        ArgumentNullException.ThrowIfNull(factory);
        options ??= new RoomTypeOptions();
        options.Validate(type);
        if (type == EntryRoomName || !_types.TryAdd(type, new RoomType(type, factory, options)))
        {
            throw new ArgumentException($"There is already a room type named '{type}'.", nameof(type));
        }
    }

    /// <summary>Defines a room type whose rooms are made with <typeparamref name="TRoom"/>'s parameterless constructor.</summary>
    /// <exception cref="ArgumentException">The name is empty, taken, or <c>lobby</c>.</exception>
    public void Define<TRoom>(string type, RoomTypeOptions? options = null)
        where TRoom : Room, new() => Define(type, static () => new TRoom(), options);

    /// <summary>Creates a room of <paramref name="type"/>; returns once its created hook has run.</summary>
    /// <param name="type">A defined room type.</param>
    /// <param name="id">The new room's id; null for one made up from the type (<c>match-3</c>).</param>
    /// <exception cref="ArgumentException">No room type has that name, or a room has that id.</exception>
    /// <exception cref="InvalidOperationException">There are <see cref="ServerOptions.MaxRooms"/> rooms already.</exception>
    /// <remarks>On a cluster the room is made on this node, and is found and listed from every node.</remarks>
    public async Task<Room> CreateAsync(string type, string? id = null)
    {
        if (Cluster is { } cluster)
        {
            ArgumentNullException.ThrowIfNull(type);
            return await cluster.CreateAsync(type, id).ConfigureAwait(false);
        }

        RoomType roomType = TypeOf(type);
        Room room;
        lock (roomType.Lock)
        {
            room = CreateLocked(roomType, id, out string? refusal) ?? throw new InvalidOperationException(refusal);
        }

        await room.Created.ConfigureAwait(false);
        return room;
    }

    /// <summary>The room with <paramref name="id"/>, or null; on a cluster, only a room on this node (see <see cref="FindAsync"/>).</summary>
    public Room? Find(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return _rooms.GetValueOrDefault(id);
    }

    /// <summary>The rooms, or those of one type, with their counts: a snapshot, ordered by id; on a cluster, only this node's rooms (see <see cref="ListAsync"/>).</summary>
    /// <param name="type">A room type's name; null for every room.</param>
    public IReadOnlyList<RoomInfo> List(string? type = null) =>
        [.. _rooms.Values
            .Where(room => type is null || room.Type == type)
            .Select(InfoOf)
            .OrderBy(info => info.Id, StringComparer.Ordinal)];

    /// <summary>
    /// The room with <paramref name="id"/> as a listing shows it (count, capacity, lock), or null if there is none: on
    /// one server as <see cref="Find"/>; on a cluster, wherever the room lives.
    /// </summary>
    public Task<RoomInfo?> FindAsync(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (Cluster is { } cluster)
        {
            return cluster.FindAsync(id);
        }

        return Task.FromResult(Find(id) is { } room ? InfoOf(room) : null);
    }

    /// <summary>
    /// The rooms, or those of one type, with their counts, ordered by id: on one server as <see cref="List"/>; on a
    /// cluster, every node's rooms. A snapshot; on a cluster, counts may trail a user's move by a call.
    /// </summary>
    /// <param name="type">A room type's name; null for every room.</param>
    public Task<IReadOnlyList<RoomInfo>> ListAsync(string? type = null) =>
        Cluster is { } cluster ? cluster.ListAsync(type) : Task.FromResult(List(type));

    /// <summary>
    /// Moves a user into <paramref name="target"/>, from code outside any room (a timer of your own, an admin
    /// command): their room's leave hook runs in its turn, then the target's enter hook in its turn. Completes when
    /// they are in the target, or refused (full, locked, closed) and where they were. From a room's own code use
    /// <c>Room.MoveAsync</c> instead; awaiting this there could wait for that room's own turn.
    /// </summary>
    public Task<JoinResult> MoveAsync(Connection connection, Room target)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(target);
        if (Cluster is { } cluster)
        {
            return cluster.MoveFromOutsideAsync(connection, target.Id);
        }

        return connection.Dispatcher.MoveFromOutsideAsync(target, string.Empty, seatHeld: false);
    }

    /// <summary>
    /// Moves a user into a room of <paramref name="type"/> that has a place, creating one if none has, from code
    /// outside any room; as <see cref="MoveAsync"/>.
    /// </summary>
    /// <exception cref="ArgumentException">No room type has that name.</exception>
    public async Task<JoinResult> JoinOrCreateAsync(Connection connection, string type)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (Cluster is { } cluster)
        {
            ArgumentNullException.ThrowIfNull(type);
            return await cluster.JoinOrCreateFromOutsideAsync(connection, type).ConfigureAwait(false);
        }

        (Room? target, string? refusal) = HoldSeatInAnyOrNew(type, byClient: false);
        if (target is null)
        {
            return JoinResult.Refused(refusal!);
        }

        await target.Created.ConfigureAwait(false);
        return await connection.Dispatcher.MoveFromOutsideAsync(target, string.Empty, seatHeld: true).ConfigureAwait(false);
    }

    /// <summary>
    /// Closes <paramref name="room"/> from outside it: it takes no one from then on; its users are moved to the entry
    /// room and told <paramref name="reason"/> (or disconnected with it); it is disposed once empty.
    /// </summary>
    /// <exception cref="InvalidOperationException"><paramref name="room"/> is the entry room.</exception>
    public Task CloseAsync(Room room, string reason, bool disconnect = false)
    {
        ArgumentNullException.ThrowIfNull(room);
        ArgumentNullException.ThrowIfNull(reason);
        return room.InvokeAsync(() => room.CloseInTurnAsync(reason, disconnect));
    }

    /// <summary>
    /// Closes the room with <paramref name="roomId"/> from outside it, as <see cref="CloseAsync(Room, string, bool)"/>; on a
    /// cluster, wherever the room lives.
    /// </summary>
    /// <exception cref="ArgumentException">There is no room with that id.</exception>
    /// <exception cref="InvalidOperationException">It is the entry room.</exception>
    public Task CloseAsync(string roomId, string reason, bool disconnect = false)
    {
        ArgumentNullException.ThrowIfNull(roomId);
        ArgumentNullException.ThrowIfNull(reason);
        if (Cluster is { } cluster)
        {
            return cluster.CloseAsync(roomId, reason, disconnect);
        }

        return Find(roomId) is { } room
            ? CloseAsync(room, reason, disconnect)
            : throw new ArgumentException($"There is no room '{roomId}'.", nameof(roomId));
    }

    /// <summary>Takes the server's settings and attaches the entry room; when the server starts.</summary>
    internal void Start(MessageRegistry outgoing, int maxFrameSize, int maxRooms, TimeProvider time, ILoggerFactory? loggerFactory, object flushGroup)
    {
        Outgoing = outgoing;
        MaxFrameSize = maxFrameSize;
        MaxRooms = maxRooms;
        Time = time;
        LoggerFactory = loggerFactory;
        Logger = loggerFactory?.CreateLogger("Wevis.Rooms") ?? NullLogger.Instance;

        // Rooms made before the server started took the logger there was then (none): they log to the server's now.
        foreach (Room room in _rooms.Values)
        {
            room.UseLogger(CreateLogger(room.GetType()));
        }

        FlushGroup = flushGroup;
        EntryRoom.Attach(this, EntryRoomName, EntryRoomName, new RoomTypeOptions { AutoDispose = false });
        IsRunning = true;
        _rooms[EntryRoomName] = EntryRoom;
    }

    /// <summary>Disposes every room (their users have left): the server has stopped.</summary>
    internal async Task DisposeAllAsync()
    {
        IsRunning = false;
        foreach (Room room in _rooms.Values)
        {
            await room.DisposeNowAsync().ConfigureAwait(false);
        }
    }

    internal ILogger CreateLogger(Type roomType) => LoggerFactory?.CreateLogger(roomType.FullName ?? "Wevis.Room") ?? NullLogger.Instance;

    /// <summary>Encodes a message once for many recipients, checked as <see cref="Connection.Send"/> checks it.</summary>
    /// <exception cref="ArgumentException">Not one of the server's message types, or over the frame limit.</exception>
    internal FrameBuffer Encode(IMessage message)
    {
        if (!Outgoing.Contains(message.Descriptor))
        {
            throw new ArgumentException($"{message.Descriptor.Name} is not one of the server's message types.", nameof(message));
        }

        FrameBuffer frame = FrameBuffer.Encode(message);
        if (frame.BodyLength > MaxFrameSize)
        {
            FrameBuffer.Return(frame);
            FrameBuffer.ThrowOverLimit(message.Descriptor, frame.BodyLength, MaxFrameSize);
        }

        return frame;
    }

    /// <summary>Encodes a reply in its envelope (<c>[_Reply, id, reply]</c>), checked as <see cref="Encode"/> checks a message.</summary>
    /// <exception cref="ArgumentException">Not one of the server's message types, or over the frame limit.</exception>
    internal FrameBuffer EncodeReply(int requestId, IServerMessage reply)
    {
        if (!Outgoing.Contains(reply.Descriptor))
        {
            throw new ArgumentException($"{reply.Descriptor.Name} is not one of the server's message types.", nameof(reply));
        }

        FrameBuffer frame = FrameBuffer.Encode(new ReplyEnvelope(requestId, reply));
        if (frame.BodyLength > MaxFrameSize)
        {
            FrameBuffer.Return(frame);
            FrameBuffer.ThrowOverLimit(reply.Descriptor, frame.BodyLength, MaxFrameSize);
        }

        return frame;
    }

    /// <summary>Holds a seat in the room with <paramref name="id"/>, for a client that asked to join it.</summary>
    internal (Room? Room, string? Refusal) HoldSeatById(string id)
    {
        if (Find(id) is not { } room)
        {
            return (null, $"there is no room '{id}'");
        }

        if (room.IsEntryRoom)
        {
            // A room with a refusal would be taken for a held seat (given back later, one more than was held).
            string? closed = room.Members.TryHoldSeat(force: true);
            return closed is null ? (room, null) : (null, closed);
        }

        if (!_types.TryGetValue(room.Type, out RoomType? type) || !type.Options.ClientsMayJoin)
        {
            return (null, $"clients may not join rooms of type '{room.Type}'");
        }

        string? refusal = room.Members.TryHoldSeat(force: false);
        return refusal is null ? (room, null) : (null, refusal);
    }

    /// <summary>
    /// Holds a seat in the first room of <paramref name="type"/> with a place, or in a new one: atomic per type,
    /// so racing joins fill one room before the next is made.
    /// </summary>
    /// <exception cref="ArgumentException">No such type, and the caller is code (<paramref name="byClient"/> false).</exception>
    internal (Room? Room, string? Refusal) HoldSeatInAnyOrNew(string type, bool byClient)
    {
        if (!TryGetType(type, byClient, out RoomType? roomType, out string? refusal))
        {
            return (null, refusal);
        }

        if (byClient && !roomType.Options.ClientsMayJoin)
        {
            return (null, $"clients may not join rooms of type '{type}'");
        }

        lock (roomType.Lock)
        {
            foreach (Room room in roomType.Rooms)
            {
                if (room.Members.TryHoldSeat(force: false) is null)
                {
                    return (room, null);
                }
            }

            if (byClient && !roomType.Options.ClientsMayCreate)
            {
                return (null, $"no room of type '{type}' has a place, and clients may not create them");
            }

            return HoldSeatInNewLocked(roomType);
        }
    }

    /// <summary>Creates a room of <paramref name="type"/> and holds a seat in it.</summary>
    internal (Room? Room, string? Refusal) CreateHoldingSeat(string type, bool byClient)
    {
        if (!TryGetType(type, byClient, out RoomType? roomType, out string? refusal))
        {
            return (null, refusal);
        }

        if (byClient && !roomType.Options.ClientsMayCreate)
        {
            return (null, $"clients may not create rooms of type '{type}'");
        }

        lock (roomType.Lock)
        {
            return HoldSeatInNewLocked(roomType);
        }
    }

    /// <summary>
    /// Lists <paramref name="room"/>, made by a cluster's grain rather than a defined type, under <paramref name="id"/>,
    /// and runs its created hook; <paramref name="isEntry"/>: it is the cluster's entry room (never disposed).
    /// </summary>
    /// <exception cref="ArgumentException">A room has that id on this node.</exception>
    internal async Task AdoptAsync(Room room, string id, string type, RoomTypeOptions options, bool isEntry)
    {
        room.Attach(this, id, type, options, isEntry);

        // A node's directory was made with a stand-in entry room, which the cluster's entry room replaces.
        if (!_rooms.TryAdd(id, room) && !(isEntry && _rooms.TryUpdate(id, room, EntryRoom)))
        {
            throw new ArgumentException($"There is already a room with id '{id}'.", nameof(id));
        }

        room.BeginCreation();
        await room.Created.ConfigureAwait(false);
    }

    /// <summary>Forgets a room that is being disposed.</summary>
    internal void Remove(Room room)
    {
        if (Cluster is { } cluster && _rooms.TryGetValue(room.Id, out Room? listed) && ReferenceEquals(listed, room))
        {
            cluster.Removed(room);
        }

        if (_types.TryGetValue(room.Type, out RoomType? type))
        {
            lock (type.Lock)
            {
                type.Rooms.Remove(room);
            }
        }

        _rooms.TryRemove(new KeyValuePair<string, Room>(room.Id, room));
    }

    private static RoomInfo InfoOf(Room room) => new(room.Id, room.Type, room.Members.Occupied, room.Capacity, room.IsLocked);

    private (Room? Room, string? Refusal) HoldSeatInNewLocked(RoomType type)
    {
        Room? room = CreateLocked(type, null, out string? refusal);
        if (room is null)
        {
            return (null, refusal);
        }

        // Made for a user to join: if they cannot enter after all, it goes when its seat is given back.
        room.Members.Used = true;
        refusal = room.Members.TryHoldSeat(force: false);
        return refusal is null ? (room, null) : (null, refusal);
    }

    /// <summary>Makes, attaches and lists a room, and starts its created hook; null (with why) if there are too many rooms.</summary>
    private Room? CreateLocked(RoomType type, string? id, out string? refusal)
    {
        if (_rooms.Count >= MaxRooms)
        {
            refusal = $"the server has the most rooms it allows ({MaxRooms})";
            return null;
        }

        id ??= $"{type.Name}-{Interlocked.Increment(ref _nextId)}";
        Room room = type.Factory() ?? throw new InvalidOperationException($"The factory of room type '{type.Name}' returned null.");
        room.Attach(this, id, type.Name, type.Options);
        if (!_rooms.TryAdd(id, room))
        {
            throw new ArgumentException($"There is already a room with id '{id}'.", nameof(id));
        }

        type.Rooms.Add(room);
        room.BeginCreation();
        refusal = null;
        return room;
    }

    private RoomType TypeOf(string type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return _types.TryGetValue(type, out RoomType? roomType)
            ? roomType
            : throw new ArgumentException($"There is no room type named '{type}'; define it with Server.Rooms.Define.", nameof(type));
    }

    private bool TryGetType(string type, bool byClient, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RoomType? roomType, out string? refusal)
    {
        if (!byClient)
        {
            roomType = TypeOf(type);
            refusal = null;
            return true;
        }

        refusal = _types.TryGetValue(type, out roomType) ? null : $"there is no room type '{type}'";
        return roomType is not null;
    }

    /// <summary>A defined room type and its rooms, in the order they were made.</summary>
    private sealed class RoomType(string name, Func<Room> factory, RoomTypeOptions options)
    {
        public string Name { get; } = name;

        public Func<Room> Factory { get; } = factory;

        public RoomTypeOptions Options { get; } = options;

        public List<Room> Rooms { get; } = [];

        public Lock Lock { get; } = new();
    }
}
