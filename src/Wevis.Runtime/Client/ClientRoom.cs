namespace Wevis;

/// <summary>The room a client's user is in, as the server last said.</summary>
/// <param name="Id">The room's id.</param>
/// <param name="Type">The room's type (<c>lobby</c> for the entry room).</param>
public sealed record ClientRoom(string Id, string Type);
