namespace Wevis;

/// <summary>Settings for the rooms of one type, given to <see cref="RoomDirectory.Define"/>. Each room may change its own later.</summary>
public sealed class RoomTypeOptions
{
    /// <summary>The most users a room of this type takes at once. Default null: no limit.</summary>
    public int? Capacity { get; set; }

    /// <summary>Whether clients may ask to join rooms of this type by id (<c>Client.JoinRoomAsync</c>). Default true.</summary>
    public bool ClientsMayJoin { get; set; } = true;

    /// <summary>
    /// Whether clients may ask for a new room of this type (<c>Client.CreateRoomAsync</c>, and
    /// <c>Client.JoinOrCreateRoomAsync</c> when no room has a place). Default true; <see cref="ServerOptions.MaxRooms"/>
    /// bounds how many rooms there can be.
    /// </summary>
    public bool ClientsMayCreate { get; set; } = true;

    /// <summary>Whether a room is disposed when its last user leaves. Default true.</summary>
    public bool AutoDispose { get; set; } = true;

    internal void Validate(string type)
    {
        if (Capacity is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Capacity), $"The capacity of room type '{type}' must be at least 1.");
        }
    }
}
