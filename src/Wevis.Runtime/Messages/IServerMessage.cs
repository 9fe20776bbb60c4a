namespace Wevis;

/// <summary>
/// A message that the server sends to clients: one defined with <c>server:</c>, or without a direction.
/// <see cref="Connection.Send"/> and <see cref="Room.Broadcast(IServerMessage)"/> take only these, so a room sending
/// a client's message does not compile.
/// </summary>
public interface IServerMessage : IMessage
{
}
