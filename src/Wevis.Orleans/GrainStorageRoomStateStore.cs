using Orleans.Storage;

namespace Wevis.Orleans;

/// <summary>
/// Rooms' state kept in an Orleans grain storage (named by <see cref="WevisClusterOptions.StateStorage"/>: memory in
/// tests, Redis in production), under the room grain's id, so that a room restarted on another node reads it back.
/// </summary>
internal sealed class GrainStorageRoomStateStore(IGrainStorage storage) : IRoomStateStore
{
    private const string StateName = "wevis-room";

    public async ValueTask<byte[]?> ReadAsync(string roomId, CancellationToken cancellationToken = default)
    {
        var state = new GrainState<RoomStateRecord>(new RoomStateRecord());
        await storage.ReadStateAsync(StateName, GrainIdOf(roomId), state).ConfigureAwait(false);
        return state.RecordExists ? state.State?.Data : null;
    }

    public async ValueTask WriteAsync(string roomId, ReadOnlyMemory<byte> state, CancellationToken cancellationToken = default)
    {
        GrainId id = GrainIdOf(roomId);
        var current = new GrainState<RoomStateRecord>(new RoomStateRecord());
        await storage.ReadStateAsync(StateName, id, current).ConfigureAwait(false);
        current.State = new RoomStateRecord { Data = state.ToArray() };
        await storage.WriteStateAsync(StateName, id, current).ConfigureAwait(false);
    }

    public async ValueTask ClearAsync(string roomId, CancellationToken cancellationToken = default)
    {
        GrainId id = GrainIdOf(roomId);
        var current = new GrainState<RoomStateRecord>(new RoomStateRecord());
        await storage.ReadStateAsync(StateName, id, current).ConfigureAwait(false);
        if (current.RecordExists)
        {
            await storage.ClearStateAsync(StateName, id, current).ConfigureAwait(false);
        }
    }

    private static GrainId GrainIdOf(string roomId) => GrainId.Create("wevis-room", roomId);
}

/// <summary>A room's saved state, as the grain storage keeps it: the bytes <see cref="PersistentRoom{TState}"/> wrote.</summary>
[GenerateSerializer]
internal sealed class RoomStateRecord
{
    [Id(0)]
    public byte[]? Data { get; set; }
}
