using System.Net;
using Microsoft.Extensions.Logging;

namespace Wevis;

/// <summary>The server's own log messages (listening, accepting, connections opening and closing), in one place.</summary>
internal static partial class ServerLog
{
    [LoggerMessage(1, LogLevel.Information, "Wevis server listening on {EndPoint} ({MessageCount} message types, fingerprint {Fingerprint})")]
    public static partial void Started(ILogger logger, EndPoint endPoint, int messageCount, string fingerprint);

    [LoggerMessage(2, LogLevel.Information, "Wevis server stopping; {OpenConnections} connection(s) open")]
    public static partial void Stopping(ILogger logger, int openConnections);

    [LoggerMessage(3, LogLevel.Information, "Wevis server stopped")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(4, LogLevel.Critical, "Wevis server failed and stopped")]
    public static partial void Failed(ILogger logger, Exception exception);

    [LoggerMessage(5, LogLevel.Error, "Cannot accept connections ({Error}: {Reason}); trying again in {DelayMilliseconds} ms")]
    public static partial void AcceptFailed(ILogger logger, System.Net.Sockets.SocketError error, string reason, long delayMilliseconds);

    [LoggerMessage(10, LogLevel.Debug, "Connection #{ConnectionId} opened from {RemoteEndPoint}; {OpenConnections} open")]
    public static partial void ConnectionOpened(ILogger logger, long connectionId, EndPoint? remoteEndPoint, int openConnections);

    [LoggerMessage(11, LogLevel.Information, "Connection #{ConnectionId} ({User}) closed, {OpenConnections} still open: {Reason}")]
    public static partial void ConnectionClosed(ILogger logger, long connectionId, string user, int openConnections, string reason);

    [LoggerMessage(13, LogLevel.Warning, "Refused a connection from {RemoteEndPoint}: {PendingLogins} connections are already logging in")]
    public static partial void TooManyPendingLogins(ILogger logger, EndPoint? remoteEndPoint, int pendingLogins);

    [LoggerMessage(14, LogLevel.Warning, "Connection #{ConnectionId} from {RemoteEndPoint}: TLS handshake failed: {Reason}")]
    public static partial void TlsFailed(ILogger logger, long connectionId, EndPoint? remoteEndPoint, string reason);

    [LoggerMessage(15, LogLevel.Error, "Connection #{ConnectionId} ({User}) failed and was closed")]
    public static partial void ConnectionFailed(ILogger logger, Exception exception, long connectionId, string user);
}
