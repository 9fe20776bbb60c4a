using Microsoft.Extensions.Logging;

namespace BenNevis.Rooms;

/// <summary>The game rooms' log events (the lobby's and the matches').</summary>
internal static partial class GameLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "{Player} joined {Room}: {Players} of {Capacity} players")]
    public static partial void Joined(ILogger logger, string player, string room, int players, int capacity);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Match {Match} started in {Room} with {Players} player(s): {Names}")]
    public static partial void Started(ILogger logger, int match, string room, int players, string names);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "{Description}")]
    public static partial void Over(ILogger logger, string description);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Match {Match}'s map: {Path}")]
    public static partial void MapWritten(ILogger logger, int match, string path);

    [LoggerMessage(EventId = 5, Level = LogLevel.Error, Message = "Match {Match}'s map could not be written to {Path}")]
    public static partial void MapFailed(ILogger logger, Exception exception, int match, string path);

    [LoggerMessage(EventId = 6, Level = LogLevel.Debug, Message = "Refused {Player}: {Reason}")]
    public static partial void Refused(ILogger logger, string player, string reason);
}
