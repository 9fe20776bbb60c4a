namespace Wevis;

/// <summary>
/// The answer to a request to move a user into a room: the room they are going to, or why they are not. A move
/// that was accepted may still end with the user back where they were, if the room's enter hook refuses them
/// (<see cref="RoomEntryRefusedException"/>) or fails.
/// </summary>
public readonly record struct JoinResult
{
    private JoinResult(Room? room, string? refusal, string? roomId = null)
    {
        Room = room;
        RefusalReason = refusal;
        RoomId = room?.Id ?? roomId;
    }

    /// <summary>The room the user is going to; null if refused, or if the room is on another node of a cluster (see <see cref="RoomId"/>).</summary>
    public Room? Room { get; }

    /// <summary>Why the move was refused (the room is full, locked, closed or unknown…); null if it was accepted.</summary>
    public string? RefusalReason { get; }

    /// <summary>The id of the room the user is going to; null if refused. Set on a cluster too, where the room may be on another node.</summary>
    public string? RoomId { get; }

    /// <summary>Whether the move was accepted.</summary>
    public bool Accepted => RoomId is not null;

    /// <summary>A move into <paramref name="room"/>.</summary>
    public static JoinResult Into(Room room) => new(room ?? throw new ArgumentNullException(nameof(room)), null);

    /// <summary>A move into the room with <paramref name="roomId"/> on another node of a cluster.</summary>
    internal static JoinResult IntoRoomElsewhere(string roomId) => new(null, null, roomId ?? throw new ArgumentNullException(nameof(roomId)));

    /// <summary>A refusal, with the reason the user is told.</summary>
    public static JoinResult Refused(string reason) => new(null, reason ?? throw new ArgumentNullException(nameof(reason)));

    /// <inheritdoc/>
    public override string ToString() => RoomId is { } id ? $"into {id}" : $"refused: {RefusalReason}";
}
