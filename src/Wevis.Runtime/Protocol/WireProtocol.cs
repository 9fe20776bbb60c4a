namespace Wevis.Protocol;

/// <summary>Facts about the wire protocol itself (docs/protocol.md).</summary>
internal static class WireProtocol
{
    /// <summary>
    /// The protocol version in the welcome; a client refuses a server that speaks another. 2: rooms (the
    /// <c>_RoomChanged</c> notice after the login, and the room requests).
    /// </summary>
    public const int Version = 2;
}
