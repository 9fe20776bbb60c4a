using System.Net;
using Wevis.Rooms;
using Wevis.Transport;

namespace Wevis;

/// <summary>
/// A logged-in user's connection, as rooms see it: who is on it (<see cref="User"/>), which room they are in
/// (<see cref="Room"/>), a way to reply (<see cref="Send"/>) and to send them away (<see cref="Close"/>). Messages
/// sent on one connection arrive in the order they were sent.
/// </summary>
/// <remarks>
/// Rooms reach users only through this class, never a socket or a frame, so a room's code does not depend on where
/// the user's connection ends: on this machine, or on a gateway in front of a cluster.
/// </remarks>
public abstract class Connection
{
    /// <summary>For the server's own connection types.</summary>
    private protected Connection()
    {
        Dispatcher = new UserDispatcher(this);
    }

    /// <summary>A number that identifies this connection in the server's logs.</summary>
    public abstract long Id { get; }

    /// <summary>The logged-in user, as the validator returned them (cast to your <see cref="Wevis.User"/> subclass).</summary>
    public abstract User User { get; }

    /// <summary>The client's address.</summary>
    public abstract EndPoint? RemoteEndPoint { get; }

    /// <summary>Whether the connection is still open for sending.</summary>
    public abstract bool IsOpen { get; }

    /// <summary>Why the connection closed, once it has.</summary>
    public abstract string? CloseReason { get; }

    /// <summary>The room the user is in; null while they move between rooms, and after they have left.</summary>
    public Room? Room => Dispatcher.Room;

    /// <summary>Moves the user between rooms and hands their messages to the room they are in.</summary>
    internal UserDispatcher Dispatcher { get; }

    /// <summary>The rooms of the server the user is on.</summary>
    internal abstract RoomDirectory Directory { get; }

    /// <summary>Defers the flushes of what is sent while this user's messages are handled.</summary>
    internal abstract FlushBatch Batch { get; }

    /// <summary>
    /// Sends <paramref name="message"/> to this client. It is queued and goes out promptly: in a handler, together
    /// with the handler's other replies when it returns. Sending on a closed connection does nothing.
    /// </summary>
    /// <exception cref="ArgumentException">The message is not one of the server's message types, or is over the frame limit; nothing was sent.</exception>
    /// <exception cref="ArgumentNullException">A reference-typed argument of a <c>[WevisMessage]</c> record is null.</exception>
    public void Send(IMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        SendMessage(message);
    }

    /// <summary>Closes the connection: the client is told <paramref name="reason"/>, after the messages already queued; the user then leaves their room.</summary>
    public abstract void Close(string reason);

    /// <inheritdoc/>
    public override string ToString() => $"#{Id} {User.Name} ({RemoteEndPoint})";

    /// <summary>Queues a message, checked against the server's message types and the frame limit.</summary>
    private protected abstract void SendMessage(IMessage message);

    /// <summary>Closes the connection because the peer broke the protocol; the peer is told why.</summary>
    internal abstract void CloseForViolation(string reason);

    /// <summary>Queues an encoded frame (its length prefix included) that was checked when it was encoded.</summary>
    internal abstract void SendFrame(ReadOnlySpan<byte> frame);
}
