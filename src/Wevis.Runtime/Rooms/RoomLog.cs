using Microsoft.Extensions.Logging;

namespace Wevis.Rooms;

/// <summary>The rooms' log messages, in one place (each room logs under its own type's category).</summary>
internal static partial class RoomLog
{
    [LoggerMessage(30, LogLevel.Error, "Room {RoomId}: the handler failed for {User}'s message {Message}")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, string roomId, string user, string message);

    [LoggerMessage(31, LogLevel.Error, "Room {RoomId}: the {Hook} hook failed for {User}")]
    public static partial void HookFailed(ILogger logger, Exception exception, string roomId, string hook, string user);

    [LoggerMessage(32, LogLevel.Warning, "Room {RoomId} has no handler for {User}'s message {Message}")]
    public static partial void Unhandled(ILogger logger, string roomId, string user, string message);

    [LoggerMessage(33, LogLevel.Error, "Room {RoomId}: tick {Tick} failed")]
    public static partial void TickFailed(ILogger logger, Exception exception, string roomId, long tick);

    [LoggerMessage(34, LogLevel.Error, "Room {RoomId}: a scheduled action failed")]
    public static partial void TimerFailed(ILogger logger, Exception exception, string roomId);

    [LoggerMessage(35, LogLevel.Error, "Room {RoomId}: the {Hook} hook failed")]
    public static partial void LifecycleHookFailed(ILogger logger, Exception exception, string roomId, string hook);

    [LoggerMessage(36, LogLevel.Debug, "Room {RoomId} ({RoomType}) created")]
    public static partial void Created(ILogger logger, string roomId, string roomType);

    [LoggerMessage(37, LogLevel.Information, "Room {RoomId} closing with {Users} user(s) in it: {Reason}")]
    public static partial void Closing(ILogger logger, string roomId, string reason, int users);

    [LoggerMessage(38, LogLevel.Debug, "Room {RoomId} disposed")]
    public static partial void Disposed(ILogger logger, string roomId);

    [LoggerMessage(39, LogLevel.Information, "{User} could not move from {From} to {To}: {Reason}")]
    public static partial void MoveFailed(ILogger logger, string user, string from, string to, string reason);

    [LoggerMessage(43, LogLevel.Warning, "Room {RoomId}: the enter hook moved {User} on, then refused them ({Reason}); the move stands")]
    public static partial void RefusedAfterMovingOn(ILogger logger, string roomId, string user, string reason);
}
