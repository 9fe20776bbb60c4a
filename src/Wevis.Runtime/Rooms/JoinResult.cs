namespace Wevis;

/// <summary>
/// The answer to a request to move a user into a room: the room they are going to, or why they are not. A move
/// that was accepted may still end with the user back where they were, if the room's enter hook refuses them
/// (<see cref="RoomEntryRefusedException"/>) or fails.
/// </summary>
public readonly record struct JoinResult
{
    private JoinResult(Room? room, string? refusal)
    {
        Room = room;
        RefusalReason = refusal;
    }

    /// <summary>The room the user is going to; null if refused.</summary>
    public Room? Room { get; }

    /// <summary>Why the move was refused (the room is full, locked, closed or unknown…); null if it was accepted.</summary>
    public string? RefusalReason { get; }

    /// <summary>Whether the move was accepted.</summary>
    public bool Accepted => Room is not null;

    /// <summary>A move into <paramref name="room"/>.</summary>
    public static JoinResult Into(Room room) => new(room ?? throw new ArgumentNullException(nameof(room)), null);

    /// <summary>A refusal, with the reason the user is told.</summary>
    public static JoinResult Refused(string reason) => new(null, reason ?? throw new ArgumentNullException(nameof(reason)));

    /// <inheritdoc/>
    public override string ToString() => Room is { } room ? $"into {room.Id}" : $"refused: {RefusalReason}";
}
