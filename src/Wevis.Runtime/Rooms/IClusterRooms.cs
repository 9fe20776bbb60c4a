namespace Wevis.Rooms;

/// <summary>
/// Where a room's own moves go when the room is hosted on a cluster (Wevis.Orleans) rather than on one server: the
/// rooms a user moves to may live on other nodes, so they are named by id or type, not held as objects.
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
}
