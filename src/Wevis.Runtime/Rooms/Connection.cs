using System.Buffers;
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
public abstract partial class Connection
{
    /// <summary>
    /// The entry whose room's enter hook runs on this flow (see <see cref="HoldSends"/>): one object per entry, not the
    /// connection, because what the hook starts (a timer, a task) keeps the flow's value after the hook, and must not
    /// be taken for the hook of the user's next entry.
    /// </summary>
    private static readonly AsyncLocal<object?> Entering = new();

    private readonly Lock _holdLock = new();
    private ArrayBufferWriter<byte>? _held;
    private volatile bool _holding;
    private object? _entry;
    private IMessage? _notice;

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
    /// with the handler's other replies when it returns. Sending on a closed connection does nothing. Only messages
    /// the server sends (<c>server:</c>, or no direction) are <see cref="IServerMessage"/>s, so sending one of the
    /// clients' does not compile.
    /// </summary>
    /// <exception cref="ArgumentTooLargeException">An argument is over its bound; nothing was sent.</exception>
    /// <exception cref="ArgumentException">The message is not one of the server's message types, or is over the frame limit; nothing was sent.</exception>
    /// <exception cref="ArgumentNullException">A reference-typed argument of a <c>[WevisMessage]</c> record is null.</exception>
    public void Send(IServerMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (_holding && IsEnteringHere && TryHold(message))
        {
            return;
        }

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
    internal void SendEncoded(ReadOnlySpan<byte> frame)
    {
        if (_holding && IsEnteringHere && TryHold(frame))
        {
            return;
        }

        SendFrame(frame);
    }

    /// <summary>
    /// Holds what the entering room sends this user from now on, until <see cref="ReleaseHeld"/>: while its enter hook
    /// runs (on the caller's flow, and whatever the hook awaits), so that the client hears of its new room before
    /// anything the room sends it, and hears nothing from a room that turns it away. What others send meanwhile (a
    /// reply the old room gives late, another room, server code) is not the entering room's to drop: it goes out as
    /// it comes.
    /// </summary>
    /// <param name="notice">What tells the client it is in the room, sent first if the user is let in.</param>
    internal void HoldSends(IMessage notice)
    {
        lock (_holdLock)
        {
            _holding = true;
            _notice = notice;
            _entry = new object();
            Entering.Value = _entry;
        }
    }

    /// <summary>Whether the entering room's hook is what sends (only asked while holding, so a send pays nothing otherwise).</summary>
    private bool IsEnteringHere => Entering.Value is { } entry && ReferenceEquals(entry, Volatile.Read(ref _entry));

    /// <summary>Code run in a room's turn from here on is that room's, not an entering room's hook (which may have awaited it).</summary>
    internal static void NotEntering() => Entering.Value = null;

    /// <summary>
    /// Ends holding: if the user was let in (<paramref name="entered"/>), sends the notice and then what was held, in
    /// order; if not, drops what was held (the room turned the user away). Nothing if holding ended already.
    /// </summary>
    internal void ReleaseHeld(bool entered)
    {
        lock (_holdLock)
        {
            if (!_holding)
            {
                return;
            }

            if (entered)
            {
                SendMessage(_notice!);
                if (_held is { WrittenCount: > 0 } held)
                {
                    SendFrame(held.WrittenSpan);
                }
            }

            _held?.ResetWrittenCount();
            _holding = false;
            _entry = null;
            _notice = null;
        }

        Entering.Value = null;
    }

    /// <summary>
    /// The user leaves the room they are entering (its hook sends them on): they did enter, so the client hears of it,
    /// and of what the hook sent, now, before the leave hook and the move (on a cluster the connection stops taking
    /// sends for this node as the move is recorded). Nothing if not holding.
    /// </summary>
    internal void LetInBeforeMovingOn() => ReleaseHeld(entered: true);

    /// <summary>Queues an encoded frame (its length prefix included) that was checked when it was encoded.</summary>
    private protected abstract void SendFrame(ReadOnlySpan<byte> frame);

    private bool TryHold(IMessage message)
    {
        lock (_holdLock)
        {
            if (!_holding)
            {
                return false;
            }

            FrameBuffer frame = Directory.Encode(message);
            (_held ??= new ArrayBufferWriter<byte>()).Write(frame.Frame);
            FrameBuffer.Return(frame);
            return true;
        }
    }

    private bool TryHold(ReadOnlySpan<byte> frame)
    {
        lock (_holdLock)
        {
            if (!_holding)
            {
                return false;
            }

            (_held ??= new ArrayBufferWriter<byte>()).Write(frame);
            return true;
        }
    }
}
