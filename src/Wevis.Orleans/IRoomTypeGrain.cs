namespace Wevis.Orleans;

/// <summary>
/// One room type's part of the cluster's directory, keyed by the type's name: the type's rooms with what a listing
/// shows (count, capacity, lock, closing), kept up to date by the rooms themselves, so join-or-create picks a room
/// without asking each one; made atomic by the grain running one join-or-create or create at a time.
/// </summary>
internal interface IRoomTypeGrain : IGrainWithStringKey
{
    /// <summary>Holds a seat in the first room with a place, or in a new one (if <paramref name="mayCreate"/>); the room's id, or why not.</summary>
    /// <remarks><paramref name="holder"/>: who the seat is for (<see cref="ClusterUser.SeatHolder"/>).</remarks>
    Task<SeatAnswer> JoinOrCreate(bool mayCreate, string? holder);

    /// <summary>Makes a new room and holds a seat in it.</summary>
    /// <remarks><paramref name="holder"/>: who the seat is for (<see cref="ClusterUser.SeatHolder"/>); null for code that gives it back at once.</remarks>
    Task<SeatAnswer> Create(string? holder);

    /// <summary>An id for a new room of this type that no room has (<c>type-N</c>).</summary>
    [AlwaysInterleave]
    Task<string> NewId();

    /// <summary>A room of this type says what its listing shows now (it was made, reactivated, or its counts changed); a disposed room leaves.</summary>
    [AlwaysInterleave]
    Task Report(RoomListing listing);

    /// <summary>The type's rooms with their counts, ordered by id.</summary>
    [AlwaysInterleave]
    Task<ClusterRoomInfo[]> List();

    /// <summary>The room of this type with <paramref name="id"/>; null if there is none.</summary>
    [AlwaysInterleave]
    Task<ClusterRoomInfo?> Find(string id);

    /// <summary>The silo <paramref name="silo"/> is dead: its rooms are made again on live silos, and report themselves.</summary>
    [AlwaysInterleave]
    Task SiloDead(string silo);
}

/// <summary>A seat held in room <paramref name="RoomId"/>, or why none was.</summary>
[GenerateSerializer]
[Immutable]
internal sealed record SeatAnswer([property: Id(0)] string? RoomId, [property: Id(1)] string? Refusal);

/// <summary>
/// What a room's listing shows, as its room type's grain keeps it: <paramref name="Version"/> counts the room's changes
/// within one activation (<paramref name="Activation"/>), so a report that arrives after a newer one is ignored.
/// </summary>
[GenerateSerializer]
[Immutable]
internal sealed record RoomListing(
    [property: Id(0)] ClusterRoomInfo Info,
    [property: Id(1)] bool IsClosed,
    [property: Id(2)] bool IsDisposed,
    [property: Id(3)] string Silo,
    [property: Id(4)] Guid Activation,
    [property: Id(5)] long Version)
{
    /// <summary>Whether a join-or-create may pick the room: open, unlocked, and under its capacity.</summary>
    public bool HasPlace => !IsClosed && !Info.IsLocked && (Info.Capacity is not { } capacity || Info.Count < capacity);
}

/// <summary>A seat held for join-or-create, or why not; with what the room's listing shows after it.</summary>
[GenerateSerializer]
[Immutable]
internal sealed record SeatForType([property: Id(0)] string? Refusal, [property: Id(1)] RoomListing Listing);
