using System.Net;
using Microsoft.Extensions.Logging;

namespace Wevis;

/// <summary>The server's log messages, in one place.</summary>
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

    [LoggerMessage(11, LogLevel.Information, "Connection #{ConnectionId} ({User}) closed: {Reason}; {OpenConnections} open")]
    public static partial void ConnectionClosed(ILogger logger, long connectionId, string user, string reason, int openConnections);

    [LoggerMessage(12, LogLevel.Warning, "Connection #{ConnectionId} ({User}) from {RemoteEndPoint} broke the protocol and was closed: {Reason}")]
    public static partial void ProtocolViolation(ILogger logger, long connectionId, string user, EndPoint? remoteEndPoint, string reason);

    [LoggerMessage(13, LogLevel.Warning, "Refused a connection from {RemoteEndPoint}: {PendingLogins} connections are already logging in")]
    public static partial void TooManyPendingLogins(ILogger logger, EndPoint? remoteEndPoint, int pendingLogins);

    [LoggerMessage(14, LogLevel.Warning, "Connection #{ConnectionId} from {RemoteEndPoint}: TLS handshake failed: {Reason}")]
    public static partial void TlsFailed(ILogger logger, long connectionId, EndPoint? remoteEndPoint, string reason);

    [LoggerMessage(15, LogLevel.Error, "Connection #{ConnectionId} ({User}) failed and was closed")]
    public static partial void ConnectionFailed(ILogger logger, Exception exception, long connectionId, string user);

    [LoggerMessage(16, LogLevel.Warning, "Connection #{ConnectionId} ({User}) from {RemoteEndPoint} was dropped: {Reason}")]
    public static partial void NotReading(ILogger logger, long connectionId, string user, EndPoint? remoteEndPoint, string reason);

    [LoggerMessage(20, LogLevel.Information, "Connection #{ConnectionId} logged in as {User} (version {Version}); {LoggedIn} user connection(s)")]
    public static partial void LoginAccepted(ILogger logger, long connectionId, string user, string version, int loggedIn);

    [LoggerMessage(21, LogLevel.Information, "Connection #{ConnectionId} from {RemoteEndPoint}: login as '{Username}' rejected: {Reason}")]
    public static partial void LoginRejected(ILogger logger, long connectionId, EndPoint? remoteEndPoint, string username, string reason);

    [LoggerMessage(22, LogLevel.Error, "The login validator failed for '{Username}'")]
    public static partial void ValidatorFailed(ILogger logger, Exception exception, string username);

    [LoggerMessage(23, LogLevel.Warning, "Refusing logins from {Address}: {Failures} failed logins within {WindowSeconds} s")]
    public static partial void AddressThrottled(ILogger logger, IPAddress address, int failures, double windowSeconds);

    [LoggerMessage(30, LogLevel.Error, "The room's handler failed for {User}'s message {Message}")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, string user, IMessage message);

    [LoggerMessage(31, LogLevel.Error, "The room's {Hook} hook failed for {User}")]
    public static partial void HookFailed(ILogger logger, Exception exception, string hook, string user);

    [LoggerMessage(32, LogLevel.Warning, "The room has no handler for {User}'s message {Message}")]
    public static partial void Unhandled(ILogger logger, string user, IMessage message);

    [LoggerMessage(40, LogLevel.Debug, "Pinged connection #{ConnectionId} ({User}) after {IdleMilliseconds} ms of quiet")]
    public static partial void Pinged(ILogger logger, long connectionId, string user, long idleMilliseconds);
}
