namespace Wevis.Protocol;

/// <summary>Facts about the wire protocol itself (docs/protocol.md).</summary>
internal static class WireProtocol
{
    /// <summary>
    /// The protocol version in the client's hello and the server's welcome; each side refuses a peer that speaks
    /// another. Version 2 added the client's <c>_Hello</c> (sent first, so a TLS server can tell a plain client at
    /// once) and rooms (the <c>_RoomChanged</c> notice after the login, and the room requests).
    /// </summary>
    public const int Version = 2;
}
