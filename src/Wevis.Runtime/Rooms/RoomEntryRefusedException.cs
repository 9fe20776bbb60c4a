namespace Wevis;

/// <summary>
/// Thrown by a room's enter hook to turn a user away: the user goes back to the room they came from (or stays out
/// of the server, at login), and the client is told <see cref="Exception.Message"/>. Any other exception from an
/// enter hook does the same, but is logged as an error and the client is given a general reason.
/// </summary>
public sealed class RoomEntryRefusedException : WevisException
{
    /// <summary>Creates the exception with the reason the user is told.</summary>
    public RoomEntryRefusedException(string reason)
        : base(reason)
    {
    }
}
