using Microsoft.Extensions.Logging;

namespace Wevis.Orleans;

/// <summary>Log messages of the cluster's rooms and gateways (event ids 9000-9099).</summary>
internal static partial class OrleansLog
{
    [LoggerMessage(EventId = 9000, Level = LogLevel.Information, Message = "Wevis gateway {GatewayId} listening on {EndPoint}")]
    public static partial void GatewayStarted(ILogger logger, string gatewayId, System.Net.EndPoint? endPoint);

    [LoggerMessage(EventId = 9001, Level = LogLevel.Warning, Message = "Room {RoomId} could not reach gateway {GatewayId}; its users there are taken as gone")]
    public static partial void GatewayUnreachable(ILogger logger, Exception exception, string roomId, string gatewayId);

    [LoggerMessage(EventId = 9007, Level = LogLevel.Warning, Message = "Room {RoomId}'s call to gateway {GatewayId} failed (attempt {Attempt}); it is made again")]
    public static partial void GatewayCallFailed(ILogger logger, Exception exception, string roomId, string gatewayId, int attempt);

    [LoggerMessage(EventId = 9008, Level = LogLevel.Warning, Message = "After a node's death, {User}'s room {RoomId} could not be checked; the session goes on, and their next message finds out")]
    public static partial void RoomCheckFailed(ILogger logger, Exception exception, string user, string roomId);

    [LoggerMessage(EventId = 9002, Level = LogLevel.Information, Message = "Room {RoomId} of type {Type} is active on this node (restored state: {Restored})")]
    public static partial void RoomActivated(ILogger logger, string roomId, string type, bool restored);

    [LoggerMessage(EventId = 9003, Level = LogLevel.Warning, Message = "Node {Silo} is dead: users of its gateway leave their rooms, and rooms it hosted come back on their next call")]
    public static partial void NodeDead(ILogger logger, string silo);

    [LoggerMessage(EventId = 9004, Level = LogLevel.Warning, Message = "{User} was entered again into room {RoomId}, which was restarted on another node")]
    public static partial void UserReentered(ILogger logger, string user, string roomId);

    [LoggerMessage(EventId = 9005, Level = LogLevel.Error, Message = "A call to the cluster for {User} failed; the connection is closed")]
    public static partial void ClusterCallFailed(ILogger logger, Exception exception, string user);

    [LoggerMessage(EventId = 9006, Level = LogLevel.Warning, Message = "Room {RoomId} could not be told that {User}'s connection was lost or is back (back: {Resumed}); the session goes on")]
    public static partial void DropNotTold(ILogger logger, Exception exception, string user, string roomId, bool resumed);

    [LoggerMessage(EventId = 9020, Level = LogLevel.Warning, Message = "Room {RoomId} could not tell its room type's directory its counts; it does at its next change")]
    public static partial void ListingNotReported(ILogger logger, Exception exception, string roomId);

    [LoggerMessage(EventId = 9021, Level = LogLevel.Warning, Message = "The room directory could not bring back the rooms listed on dead node {Silo}; they come back on their next call")]
    public static partial void DeadNodeRoomsNotRevived(ILogger logger, Exception exception, string silo);

    [LoggerMessage(EventId = 9022, Level = LogLevel.Warning, Message = "The room directory of type {Type} could not read or save its list of rooms; if its node dies, rooms no one is in there may not come back")]
    public static partial void DirectoryNotSaved(ILogger logger, Exception exception, string type);

    [LoggerMessage(EventId = 9030, Level = LogLevel.Warning, Message = "The cluster's record of {User}'s resumable session could not be saved or updated; the session goes on, but may not resume at another gateway")]
    public static partial void SessionRecordFailed(ILogger logger, Exception exception, string user);

    [LoggerMessage(EventId = 9031, Level = LogLevel.Information, Message = "{User} resumed here the session held by gateway {PreviousGatewayId}, in room {RoomId}; {Bytes} bytes the client had not acknowledged were handed over")]
    public static partial void SessionTakenOver(ILogger logger, string user, string previousGatewayId, string roomId, int bytes);

    [LoggerMessage(EventId = 9032, Level = LogLevel.Information, Message = "{User} could not resume here a session held elsewhere: {Reason}")]
    public static partial void TakeOverRefused(ILogger logger, string user, string reason);

    [LoggerMessage(EventId = 9033, Level = LogLevel.Information, Message = "Room {RoomId} holds {User}, whose gateway {GatewayId} died, for {GraceSeconds} s to resume at another gateway")]
    public static partial void HeldForResume(ILogger logger, string roomId, string user, string gatewayId, double graceSeconds);

    [LoggerMessage(EventId = 9034, Level = LogLevel.Information, Message = "Room {RoomId}: {User}, whose gateway {GatewayId} died, did not resume within the grace period and left")]
    public static partial void HeldUserLeft(ILogger logger, string roomId, string user, string gatewayId);

    [LoggerMessage(EventId = 9035, Level = LogLevel.Warning, Message = "Gateway {GatewayId} could not be told to let go of {User}'s session (it is taken for dead); resuming here all the same")]
    public static partial void HandOverFailed(ILogger logger, Exception exception, string gatewayId, string user);

    [LoggerMessage(EventId = 9036, Level = LogLevel.Warning, Message = "Room {RoomId} gave back {Seats} seat(s) held for users who did not come within {TimeoutSeconds} s")]
    public static partial void SeatsGivenBack(ILogger logger, string roomId, int seats, double timeoutSeconds);

    [LoggerMessage(EventId = 9041, Level = LogLevel.Debug, Message = "Room {RoomId} gave back a seat held for a user on their way in, who will not use it; {Occupied} seat(s) taken")]
    public static partial void SeatGivenBack(ILogger logger, string roomId, int occupied);

    [LoggerMessage(EventId = 9037, Level = LogLevel.Warning, Message = "Room {RoomId} ended the stays of {Users} user(s) of gateway {GatewayId}: the gateway did not take the room's calls while more than {MaxBytes} bytes (ServerOptions.MaxQueuedBytesPerConnection) waited for it; what waited was dropped, and the gateway closes their sessions when it hears from the room again")]
    public static partial void OutboxOverflowed(ILogger logger, string roomId, string gatewayId, long maxBytes, int users);

    [LoggerMessage(EventId = 9038, Level = LogLevel.Warning, Message = "Room {RoomId} could not end {User}'s stay cleanly after their gateway fell behind")]
    public static partial void StayNotEnded(ILogger logger, Exception exception, string roomId, string user);

    [LoggerMessage(EventId = 9039, Level = LogLevel.Warning, Message = "{User}'s session is closed: room {RoomId} ended their stay while this gateway did not take its calls ({Reason})")]
    public static partial void StayEndedByRoom(ILogger logger, string user, string roomId, string reason);

    [LoggerMessage(EventId = 9040, Level = LogLevel.Warning, Message = "Room {RoomId} ended the stays of {Users} user(s) of gateway {GatewayId}: the gateway did not take the room's calls while what waited for it grew older than {MaxAgeSeconds} s (WevisClusterOptions.MaxGatewayBacklogAge); what waited was dropped, and the gateway closes their sessions when it hears from the room again")]
    public static partial void OutboxExpired(ILogger logger, string roomId, string gatewayId, double maxAgeSeconds, int users);
}
