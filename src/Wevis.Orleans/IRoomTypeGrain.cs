namespace Wevis.Orleans;

/// <summary>
/// One room type's rooms on the cluster, keyed by the type's name: join-or-create with capacity, made atomic by the
/// grain running one call at a time, and the listing of its rooms with their counts.
/// </summary>
internal interface IRoomTypeGrain : IGrainWithStringKey
{
    /// <summary>Holds a seat in the first room with a place, or in a new one (if <paramref name="mayCreate"/>); the room's id, or why not.</summary>
    Task<SeatAnswer> JoinOrCreate(bool mayCreate);

    /// <summary>Makes a new room and holds a seat in it.</summary>
    Task<SeatAnswer> Create();

    /// <summary>A room of this type is active (made here, or reactivated on another node).</summary>
    [AlwaysInterleave]
    Task Remember(string id);

    /// <summary>A room of this type was disposed.</summary>
    [AlwaysInterleave]
    Task Forget(string id);

    /// <summary>The type's rooms with their counts, ordered by id.</summary>
    [AlwaysInterleave]
    Task<ClusterRoomInfo[]> List();
}

/// <summary>A seat held in room <paramref name="RoomId"/>, or why none was.</summary>
[GenerateSerializer]
[Immutable]
internal sealed record SeatAnswer([property: Id(0)] string? RoomId, [property: Id(1)] string? Refusal);
