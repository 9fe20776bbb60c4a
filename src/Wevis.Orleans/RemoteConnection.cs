using System.Net;
using Wevis.Transport;

namespace Wevis.Orleans;

/// <summary>
/// A user in a room of this node whose connection is held by a gateway (maybe on another node): what the room sends
/// goes, as frames, into the outbox for that gateway. One per user per stay in the room.
/// </summary>
/// <remarks>
/// For a resumable user the room also keeps the frames it sent that the client has not acknowledged
/// (<see cref="Tail"/>, numbered as the session numbers them; the gateway forwards the client's acknowledgements),
/// so that if the gateway dies the client can resume at another gateway, which takes the user over
/// (<see cref="SwitchTo"/>) with those frames. Sends and the switch take the connection's lock, so no frame falls
/// between the tail handed over and the new gateway.
/// </remarks>
internal sealed class RemoteConnection(ClusterUser user, GatewayOutbox outbox, NodeRooms node, RoomGrain host, ReplayLog? tail) : Connection
{
    private readonly User _user = new(user.Name);
    private readonly FlushBatch _batch = new(new object());
    private readonly Lock _sendLock = new();
    private ClusterUser _clusterUser = user;
    private GatewayOutbox _outbox = outbox;
    private volatile string? _closeReason;
    private SwitchPoint? _lastSwitch;

    public ClusterUser ClusterUser => Volatile.Read(ref _clusterUser);

    public GatewayOutbox Outbox => Volatile.Read(ref _outbox);

    /// <summary>The frames the client has not acknowledged (resumable users only; null otherwise).</summary>
    public ReplayLog? Tail => tail;

    /// <summary>The grain whose room the user is in.</summary>
    public RoomGrain Host => host;

    /// <summary>How many of the user's messages (counted over their session, from 0) rooms have handled: this room continues the count.</summary>
    public long Handled { get; set; }

    /// <summary>The gateway's call that let the user in here (<see cref="RoomGrain.Enter"/>): a call made again with the same arguments is its repeat.</summary>
    public EntryCall? Entry { get; init; }

    /// <summary>What the entry answered (null, or the room's refusal), once the enter hook is done: a repeat of the call answers the same.</summary>
    public TaskCompletionSource<string?> Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Lets one delivery at a time count and handle the user's messages.</summary>
    public SemaphoreSlim Deliveries { get; } = new(1, 1);

    /// <summary>Where room code moved the user, once it has.</summary>
    public ClusterMove? PendingMove { get; set; }

    /// <summary>Whether the room holds the user as dropped because their gateway died (their drop hook ran).</summary>
    public bool HeldForResume { get; set; }

    /// <summary>
    /// Whether the gateway the user was switched to gave up on the takeover, and the room is about to hold the user for
    /// resume (once the takeover's resume hook is done): a resume that comes meanwhile finds them as one held.
    /// </summary>
    public bool AbandonPending { get; set; }

    /// <summary>Whether the room ran the user's drop hook and not yet the resume hook.</summary>
    public bool Dropped { get; set; }

    /// <summary>Lets a held user leave when the grace period runs out.</summary>
    public ITimer? Grace { get; set; }

    /// <summary>
    /// The identities (gateway, session) the user had before each takeover, oldest first: a second resume of the
    /// session that still names one is told the session resumed elsewhere, even after that gateway's death is known;
    /// but while the user is held for resume (the gateway that took them over died too), a resume naming one takes
    /// them over: the session's record names it when the gateway that took them over could not update the record.
    /// </summary>
    public List<(string Gateway, long Session)> FormerIdentities { get; } = [];

    public override long Id => ClusterUser.Session;

    public override User User => _user;

    /// <summary>Null: the client's address is known to its gateway only.</summary>
    public override EndPoint? RemoteEndPoint => null;

    /// <summary>Open while the user is here; a resumable user whose gateway died stays open while the room holds their frames.</summary>
    public override bool IsOpen => _closeReason is null && (!Outbox.IsDead || tail is { BrokenReason: null });

    public override string? CloseReason => _closeReason ?? (IsOpen ? null : "its gateway is gone");

    internal override RoomDirectory Directory => node.Directory;

    internal override FlushBatch Batch => _batch;

    public override void Close(string reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        if (_closeReason is null)
        {
            _closeReason = reason;
            lock (_sendLock)
            {
                _outbox.AddClose(_clusterUser.Session, reason);
            }
        }
    }

    /// <summary>The user has gone (their gateway died): nothing more is sent.</summary>
    public void MarkGone(string reason) => _closeReason ??= reason;

    /// <summary>
    /// The user's session resumed at another gateway: from now on frames go to <paramref name="to"/>'s outbox
    /// <paramref name="next"/>, and <see cref="LastSwitch"/> says so (with <paramref name="handled"/>, the user's messages
    /// handled by then). Returns the frames the client has not acknowledged, with the number of the last one it has in
    /// <paramref name="acknowledged"/>; null if they are no longer all held (over the bound), and then nothing is switched.
    /// </summary>
    public byte[]? SwitchTo(ClusterUser to, GatewayOutbox next, long handled, out long acknowledged)
    {
        lock (_sendLock)
        {
            acknowledged = 0;
            long sent = tail?.Sent ?? 0;
            if (tail?.CopyUnacknowledged(out acknowledged) is not { } frames)
            {
                return null;
            }

            Volatile.Write(ref _clusterUser, to);
            Volatile.Write(ref _outbox, next);
            Volatile.Write(ref _lastSwitch, new SwitchPoint(to, acknowledged, sent, handled));
            return frames;
        }
    }

    /// <summary>The last takeover (<see cref="SwitchTo"/>): who took the user, and what they were handed; null before any.</summary>
    public SwitchPoint? LastSwitch => Volatile.Read(ref _lastSwitch);

    /// <summary>The last takeover, if it was by <paramref name="by"/> (the same gateway and session); null otherwise.</summary>
    public SwitchPoint? LastSwitchBy(ClusterUser by) =>
        LastSwitch is { } last && last.To.GatewayId == by.GatewayId && last.To.Session == by.Session ? last : null;

    /// <summary>
    /// The frames the takeover <paramref name="point"/> handed over, again: those after
    /// <see cref="SwitchPoint.Acknowledged"/> through <see cref="SwitchPoint.Sent"/> (what was sent after the switch went
    /// to the new gateway already). Null if they are no longer all held.
    /// </summary>
    public byte[]? FramesHandedOver(SwitchPoint point)
    {
        lock (_sendLock)
        {
            return tail?.CopyBetween(point.Acknowledged, point.Sent);
        }
    }

    internal override void CloseForViolation(string reason) => Close(reason);

    /// <summary>A frame the user's gateway made (a refused room request): sent as the room's own frames are.</summary>
    public void SendFrameFromGateway(ReadOnlySpan<byte> frame) => SendFrame(frame);

    private protected override void SendFrame(ReadOnlySpan<byte> frame)
    {
        if (_closeReason is not null)
        {
            return;
        }

        if (tail is null)
        {
            if (!_outbox.IsDead)
            {
                _outbox.AddFrame(_clusterUser.Session, frame);
            }

            return;
        }

        // Kept (numbered as the session numbers it) even while the gateway is dead: the client may resume elsewhere.
        lock (_sendLock)
        {
            tail.Append(frame);
            if (!_outbox.IsDead)
            {
                _outbox.AddFrame(_clusterUser.Session, frame);
            }
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

/// <summary>
/// The arguments of a gateway's <see cref="IRoomGrain.Enter"/> that tell one call from another for the same user: a
/// call the gateway makes again (its answer was lost) carries the same ones, since the gateway does nothing else for
/// the user meanwhile (the user's gate). The gateway's number for the entry (<paramref name="Entry"/>) tells apart two
/// entries with the same arguments: room code alone can send a user back into a room with no message of theirs between
/// (the same count of handled messages, no request, the same reason), and if that room never heard that the gateway
/// saw the first move out (<see cref="IRoomGrain.MoveSeen"/> is not made again), the later entry would otherwise be
/// taken for the first one's repeat: answered without entering the user.
/// </summary>
internal sealed record EntryCall(string Type, int Request, string Reason, bool SeatHeld, bool Force, long Handled, long Entry);

/// <summary>A takeover, as <see cref="RemoteConnection.SwitchTo"/> made it: to whom, the frames handed over (after number <paramref name="Acknowledged"/> through <paramref name="Sent"/>), and the user's messages handled then.</summary>
internal sealed record SwitchPoint(ClusterUser To, long Acknowledged, long Sent, long Handled);
