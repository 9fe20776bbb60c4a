using System.Net;
using Microsoft.Extensions.Logging;

namespace Wevis.Sessions;

/// <summary>The log messages of logins and of sessions' protocol, in one place (the server's logger category).</summary>
internal static partial class SessionLog
{
    [LoggerMessage(12, LogLevel.Warning, "Connection #{ConnectionId} ({User}) from {RemoteEndPoint} broke the protocol and was closed: {Reason}")]
    public static partial void ProtocolViolation(ILogger logger, long connectionId, string user, EndPoint? remoteEndPoint, string reason);

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

    [LoggerMessage(40, LogLevel.Debug, "Pinged connection #{ConnectionId} ({User}) after {IdleMilliseconds} ms of quiet")]
    public static partial void Pinged(ILogger logger, long connectionId, string user, long idleMilliseconds);

    [LoggerMessage(24, LogLevel.Information, "Connection #{ConnectionId} ({User}) was lost; the session is kept for {GraceSeconds} s for the client to resume it: {Reason}")]
    public static partial void SessionDropped(ILogger logger, long connectionId, string user, double graceSeconds, string reason);

    [LoggerMessage(25, LogLevel.Information, "Connection #{ConnectionId} resumed the session of {User} (connection #{PreviousConnectionId}); replaying {Replayed} message(s) the client had not handled")]
    public static partial void SessionResumed(ILogger logger, long connectionId, string user, long previousConnectionId, long replayed);

    [LoggerMessage(26, LogLevel.Information, "The dropped session of {User} (connection #{ConnectionId}) ended: {Reason}")]
    public static partial void SessionEnded(ILogger logger, long connectionId, string user, string reason);

    [LoggerMessage(27, LogLevel.Warning, "Connection #{ConnectionId} from {RemoteEndPoint}: {User} could not resume: {Reason}")]
    public static partial void ResumeRefused(ILogger logger, long connectionId, System.Net.EndPoint? remoteEndPoint, string user, string reason);

    [LoggerMessage(28, LogLevel.Warning, "The session of {User} (connection #{ConnectionId}) can no longer be resumed: {Reason}")]
    public static partial void CannotResume(ILogger logger, long connectionId, string user, string reason);

    [LoggerMessage(29, LogLevel.Information, "Connection #{ConnectionId} took over the session of {User} from elsewhere (another gateway); it continues after message {Acknowledged}, {Sent} sent, {Received} received")]
    public static partial void SessionAdopted(ILogger logger, long connectionId, string user, long acknowledged, long sent, long received);

    [LoggerMessage(45, LogLevel.Debug, "Connection #{ConnectionId}: another connection is resuming the session of {User} (or taking it over from elsewhere); this resume waits for it to finish")]
    public static partial void ResumeWaits(ILogger logger, long connectionId, string user);

    [LoggerMessage(46, LogLevel.Debug, "Connection #{ConnectionId}: another connection is looking for the session of {User} elsewhere (another gateway); this resume waits for that look to finish")]
    public static partial void ResumeWaitsForLookElsewhere(ILogger logger, long connectionId, string user);

    [LoggerMessage(42, LogLevel.Warning, "Connection #{ConnectionId} from {RemoteEndPoint}: {User} could not resume for now, and is asked to try again: {Reason}")]
    public static partial void ResumeFailedForNow(ILogger logger, long connectionId, System.Net.EndPoint? remoteEndPoint, string user, string reason);

    [LoggerMessage(44, LogLevel.Error, "The session of {User} (connection #{ConnectionId}) ended, but letting the user leave failed")]
    public static partial void LeaveFailed(ILogger logger, Exception exception, long connectionId, string user);

    [LoggerMessage(41, LogLevel.Information, "The session of {User} (connection #{ConnectionId}) was taken over elsewhere and ends here without a leave: {Reason}")]
    public static partial void SessionHandedOff(ILogger logger, long connectionId, string user, string reason);
}
