namespace Wevis;

/// <summary>
/// Where <see cref="PersistentRoom{TState}"/>s keep their state between lives: by room id, as bytes. On one server
/// <see cref="MemoryRoomStateStore"/> (<see cref="ServerOptions.RoomStateStore"/>); on a cluster, a grain storage
/// (Wevis.Orleans' <c>WevisClusterOptions.StateStorage</c>), so that a room restarted on another node finds it.
/// </summary>
public interface IRoomStateStore
{
    /// <summary>The state last written for <paramref name="roomId"/>, or null if there is none.</summary>
    ValueTask<byte[]?> ReadAsync(string roomId, CancellationToken cancellationToken = default);

    /// <summary>Keeps <paramref name="state"/> for <paramref name="roomId"/>, in place of what was there.</summary>
    ValueTask WriteAsync(string roomId, ReadOnlyMemory<byte> state, CancellationToken cancellationToken = default);

    /// <summary>Forgets the state of <paramref name="roomId"/>: the room was disposed.</summary>
    ValueTask ClearAsync(string roomId, CancellationToken cancellationToken = default);
}
