namespace Wevis.Orleans;

/// <summary>
/// A room on the cluster, keyed by the room's id: it hosts the user's <see cref="Room"/> instance and takes its users'
/// frames from their gateways. The room's own turn keeps its one-at-a-time rule, so calls may interleave here.
/// </summary>
internal interface IRoomGrain : IGrainWithStringKey
{
    /// <summary>Holds a seat for a user on their way in; null, or why not (full, locked, closed; no such room unless <paramref name="create"/>).</summary>
    /// <remarks><paramref name="holder"/>: who the seat is for (<see cref="ClusterUser.SeatHolder"/>); only their entry, or a release for them, takes it.</remarks>
    Task<string?> HoldSeat(string type, bool force, bool create, string? holder);

    /// <summary>Gives back a seat held with <see cref="HoldSeat"/> that was not used.</summary>
    Task ReleaseSeat(string type, string? holder);

    /// <summary>Holds a seat for the room type's join-or-create (making the room if need be); with the room's listing after it.</summary>
    Task<SeatForType> HoldSeatForType(string type, string? holder);

    /// <summary>Makes the room, for code that creates it; false if it was made before.</summary>
    Task<bool> Open(string type);

    /// <summary>Makes the room again on a live silo after its silo died (nothing if it is already here).</summary>
    Task Revive(string type);

    /// <summary>Closes the room as <c>RoomDirectory.CloseAsync</c> does; false if there is no room (or it was closed already).</summary>
    Task<bool> Close(string reason, bool disconnect);

    /// <summary>
    /// Lets <paramref name="user"/> in (enter hook, then the client's notice); null, or why they were refused.
    /// <paramref name="handled"/>: how many of the user's messages rooms have handled so far (the count
    /// <see cref="Deliver"/> calls continue from).
    /// </summary>
    /// <remarks>
    /// <paramref name="sent"/>, for a resumable user: the frames their client has had and may not have acknowledged
    /// (from their gateway's replay log), so the room keeps numbering and holding them as the session does; null frames
    /// if the session can no longer be resumed. <paramref name="entry"/>: the gateway's number for this entry of the
    /// user's, the same when it makes the call again, so a repeat is told from a later entry with the same arguments.
    /// </remarks>
    Task<string?> Enter(ClusterUser user, string type, int request, string reason, bool seatHeld, bool force, long handled, SentFrames? sent, long entry);

    /// <summary>
    /// Hands the room <paramref name="frames"/> (encoded messages) from <paramref name="user"/>, in order; the first is
    /// the user's message number <paramref name="first"/> (counted from 0 over the session), so a call made again
    /// after a lost answer skips what this room handled already.
    /// </summary>
    Task<DeliverResult> Deliver(ClusterUser user, string type, byte[] frames, long first);

    /// <summary>The user's resumable session lost its connection (<paramref name="resumed"/> false) or got it back: the room's drop or resume hook runs.</summary>
    Task DroppedOrResumed(ClusterUser user, bool resumed);

    /// <summary>The user's connection closed or they are moving on: they leave (leave hook); returns once what the room sent them has gone to their gateway.</summary>
    Task Leave(ClusterUser user);

    /// <summary>
    /// The gateway with <paramref name="gatewayId"/> is dead: its users leave, except resumable ones, who are held as
    /// dropped (drop hook) for the resume grace period, for their clients to resume at another gateway.
    /// </summary>
    Task GatewayGone(string gatewayId);

    /// <summary>
    /// The session of the user <paramref name="gatewayId"/> held as <paramref name="session"/> resumes at
    /// <paramref name="by"/>'s gateway: what the room sends them goes there from now on. Returns the frames their
    /// client has not acknowledged (as far as the room has heard) and how many of their messages were handled; or why not.
    /// The same call again by the same <paramref name="by"/> (its answer was lost, or it ran past the caller's timeout)
    /// gets the same answer once the first is done, even if room code has moved the user on since; or, if the frames
    /// handed over are no longer held, a refusal, and the session ends.
    /// </summary>
    Task<TakeOverResult> TakeOver(string gatewayId, long session, ClusterUser by);

    /// <summary>
    /// The gateway of <paramref name="by"/> gave up on its takeover (its calls kept timing out) and told the client to
    /// try again: if the room switched the user to <paramref name="by"/>, it holds them for resume as if that gateway
    /// had died, so the client's next resume takes them over; a call of the takeover that runs later is refused.
    /// </summary>
    Task AbandonTakeOver(ClusterUser by);

    /// <summary>
    /// Sends <paramref name="user"/> a frame their gateway made (a refused room request), so it is numbered and kept
    /// with the room's frames; <paramref name="handled"/>: the user's messages handled so far, the request included.
    /// </summary>
    Task SendToUser(ClusterUser user, byte[] frame, long handled);

    /// <summary>
    /// The clients of <paramref name="gatewayId"/>'s users <paramref name="sessions"/> have acknowledged
    /// <paramref name="received"/> frames (the same order): the room stops holding those. One call per room per
    /// second from each gateway, not per message.
    /// </summary>
    [OneWay]
    Task Acknowledge(string gatewayId, long[] sessions, long[] received);

    /// <summary>The room's id, type and counts; null if it holds no room.</summary>
    Task<ClusterRoomInfo?> Info();

    /// <summary>The user's gateway has taken them on after a move room code made: the room forgets the move.</summary>
    [OneWay]
    Task MoveSeen(ClusterUser user);

    /// <summary>The room was disposed: the grain goes.</summary>
    [OneWay]
    Task RoomDisposed();
}

/// <summary>What a resumable user's client has had: frames after number <paramref name="Acknowledged"/> (null: no longer kept).</summary>
[GenerateSerializer]
[Immutable]
internal sealed record SentFrames([property: Id(0)] long Acknowledged, [property: Id(1)] byte[]? Frames);

/// <summary>
/// A session taken over by another gateway: null, or why not; the user's messages handled; frames after
/// <paramref name="Acknowledged"/>; and the <see cref="ClusterUser.Holding"/> the room gave the new holder (0 from a room
/// of a version before it gave one: the gateway's own then stands).
/// </summary>
[GenerateSerializer]
[Immutable]
internal sealed record TakeOverResult(
    [property: Id(0)] string? Refusal,
    [property: Id(1)] long Handled,
    [property: Id(2)] long Acknowledged,
    [property: Id(3)] byte[]? Frames,
    [property: Id(4)] int Holding = 0);

/// <summary>What became of frames handed to a room.</summary>
/// <param name="Handled">How many messages the room took, those it had taken already included (the rest came after room code moved the user on).</param>
/// <param name="NotHere">The room does not know the user (it was restarted on another node): enter them again.</param>
/// <param name="Move">Where room code moved the user, if it did.</param>
/// <param name="Ended">
/// Why the room ended the user's stay while their gateway did not take its calls (more than the bound waited for it),
/// if it did: the gateway closes the session with this reason rather than entering them again.
/// </param>
[GenerateSerializer]
[Immutable]
internal sealed record DeliverResult([property: Id(0)] int Handled, [property: Id(1)] bool NotHere, [property: Id(2)] ClusterMove? Move, [property: Id(3)] string? Ended = null);

/// <summary>A move room code made: the user left <paramref name="From"/> for <paramref name="Target"/>, where a seat is held.</summary>
[GenerateSerializer]
[Immutable]
internal sealed record ClusterMove(
    [property: Id(0)] string From,
    [property: Id(1)] string Target,
    [property: Id(2)] string TargetType,
    [property: Id(3)] string Reason);

/// <summary>A room's listing on the cluster; <paramref name="OutboxBacklog"/>: the bytes its outboxes hold for gateways that do not take their calls (for tests).</summary>
[GenerateSerializer]
[Immutable]
internal sealed record ClusterRoomInfo(
    [property: Id(0)] string Id,
    [property: Id(1)] string Type,
    [property: Id(2)] int Count,
    [property: Id(3)] int? Capacity,
    [property: Id(4)] bool IsLocked,
    [property: Id(5)] long OutboxBacklog = 0)
{
    public RoomInfo ToRoomInfo() => new(Id, Type, Count, Capacity, IsLocked);
}
