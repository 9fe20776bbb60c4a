using System.Net;
using Wevis.Transport;

namespace Wevis.Orleans;

/// <summary>
/// A user in a room of this node whose connection is held by a gateway (maybe on another node): what the room sends
/// goes, as frames, into the outbox for that gateway. One per user per stay in the room.
/// </summary>
internal sealed class RemoteConnection(ClusterUser user, GatewayOutbox outbox, NodeRooms node, RoomGrain host) : Connection
{
    private readonly User _user = new(user.Name);
    private readonly FlushBatch _batch = new(new object());
    private volatile string? _closeReason;

    public ClusterUser ClusterUser => user;

    public GatewayOutbox Outbox => outbox;

    /// <summary>The grain whose room the user is in.</summary>
    public RoomGrain Host => host;

    /// <summary>How many of the user's messages (counted over their session, from 0) rooms have handled: this room continues the count.</summary>
    public long Handled { get; set; }

    /// <summary>Lets one delivery at a time count and handle the user's messages.</summary>
    public SemaphoreSlim Deliveries { get; } = new(1, 1);

    /// <summary>Where room code moved the user, once it has.</summary>
    public ClusterMove? PendingMove { get; set; }

    public override long Id => user.Session;

    public override User User => _user;

    /// <summary>Null: the client's address is known to its gateway only.</summary>
    public override EndPoint? RemoteEndPoint => null;

    public override bool IsOpen => _closeReason is null && !outbox.IsDead;

    public override string? CloseReason => _closeReason ?? (outbox.IsDead ? "its gateway is gone" : null);

    internal override RoomDirectory Directory => node.Directory;

    internal override FlushBatch Batch => _batch;

    public override void Close(string reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        if (_closeReason is null)
        {
            _closeReason = reason;
            outbox.AddClose(user.Session, reason);
        }
    }

    /// <summary>The user has gone (their gateway died): nothing more is sent.</summary>
    public void MarkGone(string reason) => _closeReason ??= reason;

    internal override void CloseForViolation(string reason) => Close(reason);

    private protected override void SendFrame(ReadOnlySpan<byte> frame)
    {
        if (IsOpen)
        {
            outbox.AddFrame(user.Session, frame);
        }
    }

    private protected override void SendMessage(IMessage message)
    {
        FrameBuffer frame = node.Directory.Encode(message);
        try
        {
            SendFrame(frame.Frame);
        }
        finally
        {
            FrameBuffer.Return(frame);
        }
    }
}
