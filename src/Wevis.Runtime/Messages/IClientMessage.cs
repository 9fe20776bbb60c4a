namespace Wevis;

/// <summary>
/// A message that clients send to the server: one defined with <c>client:</c>, or without a direction.
/// <see cref="Client.Send"/> takes only these, so a client sending a server's message does not compile
/// (<see cref="Client.SendUntyped"/> checks the direction at run time instead, for messages typed only then).
/// </summary>
public interface IClientMessage : IMessage
{
}
