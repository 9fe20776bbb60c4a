namespace Wevis.Sessions;

/// <summary>What a server session hands its user to once the login is accepted: the layer above (rooms).</summary>
internal interface ISessionHost
{
    /// <summary>Called once, when the login of <paramref name="session"/> has been accepted; returns what receives its messages from then on.</summary>
    ISessionReceiver Accept(ServerSession session);

    /// <summary>Called when <paramref name="session"/> has resumed a dropped session: it has finished logging in, with the receiver it took over.</summary>
    void Resumed(ServerSession session);

    /// <summary>
    /// A login asked to resume a session whose token this server does not know: the host may find it elsewhere (a
    /// cluster's other gateway, after the one holding it died) and hand it here. The credentials were accepted as
    /// <paramref name="user"/>; <paramref name="token"/> is the client's (never logged).
    /// </summary>
    ValueTask<SessionElsewhere> ResumeElsewhereAsync(ServerSession session, User user, string token);

    /// <summary>
    /// Whether <see cref="ResumeElsewhereAsync"/> may find a session: if not, a token this server does not know is
    /// refused while the login is decided, counted for the throttle like a wrong password.
    /// </summary>
    bool ResumesElsewhere { get; }
}

/// <summary>
/// What a host found for a resume token this server does not know: a session taken over from elsewhere (what
/// receives its messages, how many of the client's messages were handled, and the frames the client may not have
/// handled, after frame number <see cref="Acknowledged"/>), or why not.
/// </summary>
internal sealed record SessionElsewhere(ISessionReceiver? Receiver, long Received, long Acknowledged, byte[]? Frames, string? Refusal)
{
    public static SessionElsewhere Refused(string reason) => new(null, 0, 0, null, reason);
}

/// <summary>Receives one logged-in session's messages, in order, on its receive loop.</summary>
internal interface ISessionReceiver
{
    /// <summary>Called once after the login's acceptance has been queued, before any message: the user enters.</summary>
    ValueTask EnterAsync();

    /// <summary>
    /// Handles <paramref name="messages"/>[<paramref name="start"/>..<paramref name="end"/>) in order: application
    /// messages and the protocol messages of layers above sessions (room requests). The list is reused afterwards.
    /// </summary>
    ValueTask ReceiveAsync(List<IMessage> messages, int start, int end);

    /// <summary>Called once when the logged-in session has closed, for whatever reason: the user leaves.</summary>
    ValueTask EndAsync();

    /// <summary>
    /// A resumable session's connection was lost; the session is kept for the grace period (the user stays). Called
    /// only on receivers of resumable sessions; the default does nothing.
    /// </summary>
    ValueTask DroppedAsync() => ValueTask.CompletedTask;

    /// <summary>
    /// The session goes on over <paramref name="session"/>, a new connection; <paramref name="wasDropped"/>:
    /// <see cref="DroppedAsync"/> was called. Called only on receivers of resumable sessions; the default does nothing.
    /// </summary>
    ValueTask ResumedAsync(ServerSession session, bool wasDropped) => ValueTask.CompletedTask;
}
