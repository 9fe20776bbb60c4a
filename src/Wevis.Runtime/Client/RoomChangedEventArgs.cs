namespace Wevis;

/// <summary>What <see cref="Client.RoomChanged"/> tells: the room the user is now in, and why the server moved them.</summary>
/// <param name="room">The room the user is now in.</param>
/// <param name="reason">Why the server moved the user (a room closed, say); empty when the client asked for the move or at the login.</param>
public sealed class RoomChangedEventArgs(ClientRoom room, string reason) : EventArgs
{
    /// <summary>The room the user is now in.</summary>
    public ClientRoom Room { get; } = room;

    /// <summary>Why the server moved the user; empty when the client asked for the move, and at the login.</summary>
    public string Reason { get; } = reason;
}
