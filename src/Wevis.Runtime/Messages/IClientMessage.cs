namespace Wevis;

/// <summary>
/// A message that clients send to the server: one defined with <c>client:</c>, or without a direction.
/// <see cref="Client.Send"/> takes only these, so a client sending a server's message does not compile.
/// </summary>
public interface IClientMessage : IMessage
{
}
