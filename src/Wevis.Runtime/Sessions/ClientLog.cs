using Microsoft.Extensions.Logging;

namespace Wevis.Sessions;

/// <summary>The client's log messages, in one place.</summary>
internal static partial class ClientLog
{
    [LoggerMessage(101, LogLevel.Debug, "Connecting to {Host}:{Port} as {Username}")]
    public static partial void Connecting(ILogger logger, string host, int port, string username);

    [LoggerMessage(102, LogLevel.Information, "Logged in to {Host}:{Port} as {Username}")]
    public static partial void LoggedIn(ILogger logger, string host, int port, string username);

    [LoggerMessage(103, LogLevel.Warning, "Login to {Host}:{Port} as {Username} rejected: {Reason}")]
    public static partial void LoginRejected(ILogger logger, string host, int port, string username, string reason);

    [LoggerMessage(104, LogLevel.Information, "Connection to {Host}:{Port} closed: {Reason}")]
    public static partial void Closed(ILogger logger, string host, int port, string reason);

    [LoggerMessage(105, LogLevel.Warning, "The server at {Host}:{Port} broke the protocol: {Reason}")]
    public static partial void ProtocolViolation(ILogger logger, string host, int port, string reason);

    [LoggerMessage(106, LogLevel.Information, "An answer to request {RequestId} ({Answer}) arrived from {Host}:{Port} after the request had timed out or been cancelled; it was dropped")]
    public static partial void LateAnswer(ILogger logger, string answer, int requestId, string host, int port);

    [LoggerMessage(107, LogLevel.Warning, "Connection to {Host}:{Port} lost; resuming the session: {Reason}")]
    public static partial void Dropped(ILogger logger, string host, int port, string reason);

    [LoggerMessage(108, LogLevel.Information, "Resumed the session with {Host}:{Port} after {Attempts} attempt(s)")]
    public static partial void Resumed(ILogger logger, string host, int port, int attempts);

    [LoggerMessage(109, LogLevel.Warning, "Gave up resuming the session with {Host}:{Port} after {Attempts} attempt(s): {Reason}")]
    public static partial void GaveUp(ILogger logger, string host, int port, int attempts, string reason);

    [LoggerMessage(110, LogLevel.Debug, "Reconnect attempt {Attempt} to {Host}:{Port} failed: {Reason}")]
    public static partial void ReconnectFailed(ILogger logger, int attempt, string host, int port, string reason);

    [LoggerMessage(111, LogLevel.Information, "Could not reach {Host}:{Port} ({Reason}); trying {NextHost}:{NextPort}")]
    public static partial void EndpointUnreachable(ILogger logger, string host, int port, string nextHost, int nextPort, string reason);

    [LoggerMessage(112, LogLevel.Error, "A {Event} handler of the client for {Host}:{Port} threw; the client carries on")]
    public static partial void EventHandlerFailed(ILogger logger, Exception exception, string @event, string host, int port);
}
