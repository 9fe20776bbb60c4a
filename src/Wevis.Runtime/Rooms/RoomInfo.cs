namespace Wevis;

/// <summary>A room as a listing shows it: a snapshot, which may be out of date as soon as it is taken.</summary>
/// <param name="Id">The room's id, unique on the server.</param>
/// <param name="Type">The room type's name, as defined with <see cref="RoomDirectory.Define"/> (<c>lobby</c> for the entry room).</param>
/// <param name="Count">How many users are in it, or on their way in.</param>
/// <param name="Capacity">The most users it takes; null: no limit.</param>
/// <param name="IsLocked">Whether it refuses new users (<see cref="Room.Lock"/>).</param>
public sealed record RoomInfo(string Id, string Type, int Count, int? Capacity, bool IsLocked);
