namespace Wevis.Rooms;

/// <summary>
/// The cluster's rooms, for a node's <see cref="RoomDirectory"/> when rooms are hosted on a cluster (Wevis.Orleans)
/// rather than on one server: finding, listing, creating and closing rooms and moving users go through the cluster,
/// because the rooms may live on other nodes; they are named by id or type, not held as objects.
/// </summary>
/// <remarks>Set on a node's <see cref="RoomDirectory"/> by the cluster; null on a single server.</remarks>
internal interface IClusterRooms
{
    /// <summary>Room code in <paramref name="from"/> (holding its turn) moves a user of it into a room of <paramref name="type"/> with a place, made if none has.</summary>
    ValueTask<JoinResult> JoinOrCreateFromRoomAsync(Room from, Connection connection, string type);

    /// <summary>Room code in <paramref name="from"/> (holding its turn) moves a user of it into the room with <paramref name="targetId"/>.</summary>
    ValueTask<JoinResult> MoveFromRoomAsync(Room from, Connection connection, string targetId, string reason, bool force);

    /// <summary>A room of this node was disposed: it leaves the cluster's directory.</summary>
    void Removed(Room room);

    /// <summary>The room with <paramref name="id"/>, on whichever node it lives; null if there is none.</summary>
    Task<RoomInfo?> FindAsync(string id);

    /// <summary>The cluster's rooms, or those of <paramref name="type"/>, ordered by id.</summary>
    Task<IReadOnlyList<RoomInfo>> ListAsync(string? type);

    /// <summary>Creates a room of <paramref name="type"/> on this node (id made up if null); once its created hook has run.</summary>
    Task<Room> CreateAsync(string type, string? id);

    /// <summary>Closes the room with <paramref name="id"/>, on whichever node it lives.</summary>
    Task CloseAsync(string id, string reason, bool disconnect);

    /// <summary>Code outside rooms moves a user (of a room on this node) into the room with <paramref name="targetId"/>.</summary>
    Task<JoinResult> MoveFromOutsideAsync(Connection connection, string targetId);

    /// <summary>Code outside rooms moves a user (of a room on this node) into a room of <paramref name="type"/> with a place, made if none has.</summary>
    Task<JoinResult> JoinOrCreateFromOutsideAsync(Connection connection, string type);
}
