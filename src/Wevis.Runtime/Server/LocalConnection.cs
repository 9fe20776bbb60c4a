using System.Net;
using Wevis.Protocol;
using Wevis.Sessions;
using Wevis.Transport;

namespace Wevis;

/// <summary>
/// A <see cref="Connection"/> whose user is connected to this machine: rooms' sends go into the session's
/// transport, and the session's messages go to the user's room.
/// </summary>
internal sealed class LocalConnection(ServerSession first, RoomDirectory directory) : Connection, ISessionReceiver
{
    // The connection carrying the user's session now: another one after a resume.
    private ServerSession session = first;

    /// <summary>The session under this connection.</summary>
    internal ServerSession Session => session;

    public override long Id => session.Id;

    public override User User => session.User!;

    public override EndPoint? RemoteEndPoint => session.RemoteEndPoint;

    public override bool IsOpen => session.IsSessionOpen;

    public override string? CloseReason => session.Transport.CloseReason;

    internal override RoomDirectory Directory => directory;

    internal override FlushBatch Batch => session.Batch;

    public override void Close(string reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        session.Close(reason);
    }

    internal override void CloseForViolation(string reason) => session.CloseForViolation(reason);

    private protected override void SendFrame(ReadOnlySpan<byte> frame) => session.Transport.TrySendFrame(frame);

    private protected override void SendMessage(IMessage message) => session.Transport.TrySend(message);

    ValueTask ISessionReceiver.EnterAsync() => Dispatcher.EnterEntryRoomAsync();

    ValueTask ISessionReceiver.ReceiveAsync(List<IMessage> messages, int start, int end) => Dispatcher.ReceiveAsync(messages, start, end);

    ValueTask ISessionReceiver.EndAsync() => Dispatcher.EndAsync();

    ValueTask ISessionReceiver.DroppedAsync() => Dispatcher.DroppedOrResumedAsync(resumed: false);

    ValueTask ISessionReceiver.ResumedAsync(ServerSession resumed, bool wasDropped)
    {
        // Sends from here on go to the new connection (those already under way reach it through the replay log).
        Volatile.Write(ref session, resumed);
        return wasDropped ? Dispatcher.DroppedOrResumedAsync(resumed: true) : ValueTask.CompletedTask;
    }
}
