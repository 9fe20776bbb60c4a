namespace Wevis;

/// <summary>
/// Who may send a message: clients, the server, or both. A definitions line starting with <c>client:</c> is
/// <see cref="ClientToServer"/>, one starting with <c>server:</c> is <see cref="ServerToClient"/>, and one with
/// neither is <see cref="Both"/>, as every message was before directions existed.
/// </summary>
/// <remarks>
/// The generated record carries its direction as interfaces: <see cref="IClientMessage"/> for what clients send,
/// <see cref="IServerMessage"/> for what the server sends, both for <see cref="Both"/>. The sending methods take those
/// interfaces, so sending the wrong way is a compile error; a peer that sends the wrong way anyway is disconnected.
/// </remarks>
[Flags]
public enum MessageDirection
{
    /// <summary>Sent by clients to the server (<c>client:</c>).</summary>
    ClientToServer = 1,

    /// <summary>Sent by the server to clients (<c>server:</c>).</summary>
    ServerToClient = 2,

    /// <summary>Sent either way (a line without <c>client:</c> or <c>server:</c>).</summary>
    Both = ClientToServer | ServerToClient,
}
