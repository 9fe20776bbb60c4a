using System.Security.Cryptography;
using Microsoft.Extensions.Logging;

namespace Wevis.Sessions;

/// <summary>
/// The server's resumable sessions, by token: creating them, keeping a dropped one for the grace period, handing one
/// to the connection that resumes it, ending them. Ended sessions' tokens are remembered (for twice the grace period)
/// so that a late client is told why, not just that its token is unknown. A token names its session for the
/// session's whole life (a resume cut off in its handshake can be tried again with it); it is never logged.
/// </summary>
internal sealed class ResumableSessions
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ResumableSession> _byToken = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Reason, long At)> _ended = new(StringComparer.Ordinal);

    /// <summary>Tokens a connection is looking for elsewhere (<see cref="TryBeginAdoption"/>), with what completes when it is done.</summary>
    private readonly Dictionary<string, TaskCompletionSource> _adopting = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public ResumableSessions(TimeSpan gracePeriod, long maxUnacknowledgedBytes, TimeSpan maxUnacknowledgedAge, TimeProvider time, ILogger logger)
    {
        GracePeriod = gracePeriod;
        MaxUnacknowledgedBytes = maxUnacknowledgedBytes;
        MaxUnacknowledgedAge = maxUnacknowledgedAge;
        _time = time;
        _logger = logger;
    }

    /// <summary>The refusal of a token this server has never known (the host may look for it elsewhere).</summary>
    public const string UnknownToken = "resume refused: the resume token is not valid";

    public TimeSpan GracePeriod { get; }

    public long MaxUnacknowledgedBytes { get; }

    public TimeSpan MaxUnacknowledgedAge { get; }

    /// <summary>Sessions kept for a client that may come back.</summary>
    public int DroppedCount
    {
        get
        {
            lock (_lock)
            {
                return _byToken.Values.Count(s => s.State == ResumableSession.Phase.Dropped);
            }
        }
    }

    /// <summary>A fresh token: 128 bits from the operating system's cryptographic generator, as base64url.</summary>
    public static string NewToken() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>A new resumable session for <paramref name="user"/>, carried by <paramref name="session"/>.</summary>
    public ResumableSession Create(User user, ServerSession session)
    {
        var resumable = new ResumableSession(user, session, MaxUnacknowledgedBytes, OnBroken);
        lock (_lock)
        {
            resumable.Token = NewToken();
            _byToken.Add(resumable.Token, resumable);
        }

        return resumable;
    }

    /// <summary>
    /// Begins looking for <paramref name="token"/>'s session elsewhere: true, with what to pass to
    /// <see cref="EndAdoption"/>; false if another connection is doing so, with what completes when it is done.
    /// </summary>
    public bool TryBeginAdoption(string token, out Task? underWay, out TaskCompletionSource? mine)
    {
        lock (_lock)
        {
            if (_adopting.TryGetValue(token, out TaskCompletionSource? other))
            {
                (underWay, mine) = (other.Task, null);
                return false;
            }

            mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _adopting.Add(token, mine);
            underWay = null;
            return true;
        }
    }

    /// <summary>The look for <paramref name="token"/>'s session elsewhere is over (adopted or not).</summary>
    public void EndAdoption(string token, TaskCompletionSource mine)
    {
        lock (_lock)
        {
            if (_adopting.TryGetValue(token, out TaskCompletionSource? current) && ReferenceEquals(current, mine))
            {
                _adopting.Remove(token);
            }
        }

        mine.TrySetResult();
    }

    /// <summary>
    /// A session this server did not hold, taken over from elsewhere (<see cref="SessionElsewhere"/>), for
    /// <paramref name="session"/> to resume: its log continues the numbering the client knows, with the frames the
    /// client may not have handled. Null if the token names a session here already, or the frames break the log's
    /// bound (the reason is in <paramref name="refusal"/>). The session is returned with its resume gate held, taken
    /// before it is published: a second resume of it that lands while the adoption is under way (its client gave up
    /// on this connection) waits for the gate, as behind any resume, instead of taking the session from under this
    /// one; the caller releases the gate once the adoption is over, accepted or refused.
    /// </summary>
    public ResumableSession? Adopt(string token, User user, ServerSession session, SessionElsewhere found, out string? refusal)
    {
        var resumable = new ResumableSession(user, session, MaxUnacknowledgedBytes, OnBroken)
        {
            Token = token,
            Receiver = found.Receiver,
            State = ResumableSession.Phase.Resuming,
            Resumer = session,
        };
        resumable.Outgoing.StartAt(found.Acknowledged);
        if (found.Frames is null || !resumable.Outgoing.AppendFrames(found.Frames))
        {
            refusal = "the session could not be kept: " + (resumable.Outgoing.BrokenReason ?? "its messages were lost");
            return null;
        }

        resumable.ContinueFrom(found.Received);

        // Free: no one else has seen the session yet.
        resumable.ResumeGate.Wait(0);
        lock (_lock)
        {
            if (!_byToken.TryAdd(token, resumable))
            {
                refusal = "another connection is resuming the session";
                return null;
            }

            _ended.Remove(token);
        }

        refusal = null;
        SessionLog.SessionAdopted(_logger, session.Id, user.Name, found.Acknowledged, resumable.Outgoing.Sent, found.Received);
        return resumable;
    }

    /// <summary>
    /// Another server took the session over (the client resumed there): it ends here without its user leaving (the
    /// user goes on elsewhere). Returns whether this call ended it.
    /// </summary>
    public bool HandOff(ResumableSession resumable, string reason)
    {
        lock (_lock)
        {
            if (resumable.State == ResumableSession.Phase.Ended)
            {
                return false;
            }

            EndLocked(resumable, reason);
        }

        SessionLog.SessionHandedOff(_logger, resumable.Current.Id, resumable.User.Name, reason);
        return true;
    }

    /// <summary>The server vanishes (tests of a crash): every session ends here, and no one above is told.</summary>
    public void Vanish()
    {
        lock (_lock)
        {
            foreach (ResumableSession resumable in _byToken.Values)
            {
                resumable.State = ResumableSession.Phase.Ended;
                resumable.EndReason = "the server vanished";
                resumable.Grace?.Dispose();
                resumable.Grace = null;
                resumable.Outgoing.Close();
            }

            _byToken.Clear();
        }
    }

    /// <summary>
    /// The connection <paramref name="session"/> carried was lost: keeps the session for the grace period. Returns
    /// false if it is not this connection's to drop (a resume has taken it, or it ended), or if the server ended it
    /// for good (the caller then ends it with its connection, as for a session that can no longer be resumed).
    /// </summary>
    public bool TryDrop(ResumableSession resumable, ServerSession session, string reason)
    {
        lock (_lock)
        {
            if (resumable.State != ResumableSession.Phase.Live || !ReferenceEquals(resumable.Current, session))
            {
                return false;
            }

            if (resumable.EndedByServer is not null)
            {
                // The server's code closed the connection just as it was lost (after its receive loop looked): no
                // resume may take the session, so keeping it would only hold the user in their room for nothing.
                return false;
            }

            if (resumable.Outgoing.BrokenReason is null)
            {
                DropLocked(resumable);
                resumable.DropReported = true;
                SessionLog.SessionDropped(_logger, session.Id, resumable.User.Name, GracePeriod.TotalSeconds, reason);
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The connection <paramref name="resumer"/>, which took the session to resume it, closed before it could (its
    /// login clock ran out while the previous connection finished, say): the session waits for its client again, for
    /// a new grace period, as if that resume had never begun. Returns whether the receiver must now be told of the
    /// drop (the previous connection was replaced, not dropped); false also if the session is no longer that
    /// resume's (it ended), or it can no longer be resumed (it then ends).
    /// </summary>
    public bool GiveBack(ResumableSession resumable, ServerSession resumer, string reason)
    {
        lock (_lock)
        {
            if (resumable.State != ResumableSession.Phase.Resuming || !ReferenceEquals(resumable.Resumer, resumer))
            {
                return false;
            }

            resumable.Resumer = null;
            if (resumable.Outgoing.BrokenReason is null && resumable.EndedByServer is null)
            {
                DropLocked(resumable);
                bool report = !resumable.DropReported;
                resumable.DropReported = true;
                SessionLog.SessionDropped(_logger, resumer.Id, resumable.User.Name, GracePeriod.TotalSeconds, reason);
                return report;
            }
        }

        EndLater(resumable, resumable.EndedByServer ?? "the session could not be kept: " + resumable.Outgoing.BrokenReason);
        return false;
    }

    /// <summary>Keeps the session for its client to come back, for the grace period (under the lock).</summary>
    private void DropLocked(ResumableSession resumable)
    {
        resumable.State = ResumableSession.Phase.Dropped;
        resumable.Grace = _time.CreateTimer(
            static state =>
            {
                var (s, all) = ((ResumableSession, ResumableSessions))state!;
                all.EndLater(s, $"the session expired: the client did not come back within the grace period of {all.GracePeriod.TotalSeconds:0.###} s");
            },
            (resumable, this),
            GracePeriod,
            Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// The connection holding a place under the per-user limit for the session <paramref name="token"/> names, if it
    /// is <paramref name="userName"/>'s: the one carrying it while live, the one resuming it meanwhile; null otherwise.
    /// </summary>
    public ServerSession? ConnectionOf(string token, string userName)
    {
        lock (_lock)
        {
            if (!_byToken.TryGetValue(token, out ResumableSession? resumable) || !string.Equals(resumable.User.Name, userName, StringComparison.Ordinal))
            {
                return null;
            }

            return resumable.State switch
            {
                ResumableSession.Phase.Live => resumable.Current,
                ResumableSession.Phase.Resuming => resumable.Resumer,
                _ => null,
            };
        }
    }

    /// <summary>
    /// The session <paramref name="token"/> names, if a connection that logged in as <paramref name="userName"/> may
    /// resume it; null, with the reason in <paramref name="refusal"/>, if not.
    /// </summary>
    public ResumableSession? Find(string token, string userName, out string? refusal)
    {
        lock (_lock)
        {
            if (!_byToken.TryGetValue(token, out ResumableSession? resumable))
            {
                refusal = _ended.TryGetValue(token, out var ended)
                    ? "resume refused: " + ended.Reason
                    : UnknownToken;
                return null;
            }

            if (!string.Equals(resumable.User.Name, userName, StringComparison.Ordinal))
            {
                refusal = "resume refused: the resume token belongs to another user's session";
                return null;
            }

            if (resumable.EndedByServer is { } why)
            {
                // Ended for good, though its connection may still be closing: not something to wait for.
                refusal = "resume refused: " + why;
                return null;
            }

            refusal = null;
            return resumable;
        }
    }

    /// <summary>
    /// Takes <paramref name="resumable"/> for <paramref name="resumer"/> to resume (the caller holds its resume
    /// gate): its grace period stops. False, with the reason, if it ended meanwhile or can no longer be resumed
    /// (it then ends, and its connection, if it still looks alive, is cut).
    /// </summary>
    public bool TryTake(ResumableSession resumable, ServerSession resumer, out string? refusal)
    {
        ServerSession previous;
        lock (_lock)
        {
            previous = resumable.Current;
            if (WhyOverLocked(resumable) is { } over)
            {
                refusal = "resume refused: " + over;
                return false;
            }

            if (resumable.Outgoing.BrokenReason is null)
            {
                refusal = null;
                resumable.State = ResumableSession.Phase.Resuming;
                resumable.Resumer = resumer;
                resumable.Grace?.Dispose();
                resumable.Grace = null;
                return true;
            }
        }

        string reason = "the session could not be kept: " + resumable.Outgoing.BrokenReason;
        refusal = "resume refused: " + reason;
        if (!previous.Transport.IsClosing)
        {
            // Its client has come back on another connection, so this one is half-dead (half-open, or given up on):
            // the session it carries is over, and it is cut, as when a resume goes through.
            previous.Transport.Abort(reason);
        }

        EndLater(resumable, reason);
        return false;
    }

    /// <summary>
    /// The resume goes through on <paramref name="session"/>, if it is still the one resuming the session: the session
    /// is live again, carried by it. False, with the reason (the caller refuses the resume), if the session ended, or
    /// the server ended it for good, while it was being resumed (it is ended, if it has not ended yet); or if another
    /// connection has taken it to resume it meanwhile (it is left to that one).
    /// </summary>
    public bool TryResume(ResumableSession resumable, ServerSession session, out string? refusal)
    {
        lock (_lock)
        {
            if (WhyOverLocked(resumable) is { } over)
            {
                refusal = over;
            }
            else if (resumable.State != ResumableSession.Phase.Resuming || !ReferenceEquals(resumable.Resumer, session))
            {
                // Another connection took the session to resume it after this one did. Not expected (every resume,
                // and an adoption, holds the session's gate until this call), but taking it back would set it live
                // under this connection while that one goes on: the session left dropped, or ended, with its client
                // connected. The later one wins, as a resume taking over from an earlier one always does.
                refusal = "another connection is resuming the session";
                return false;
            }
            else
            {
                refusal = null;
                resumable.Current = session;
                resumable.Resumer = null;
                resumable.State = ResumableSession.Phase.Live;
                return true;
            }
        }

        EndLater(resumable, refusal!);
        return false;
    }

    /// <summary>Why the session is over (it ended, or the server ended it for good); null while it may go on.</summary>
    public string? WhyOver(ResumableSession resumable)
    {
        lock (_lock)
        {
            return WhyOverLocked(resumable);
        }
    }

    private static string? WhyOverLocked(ResumableSession resumable) =>
        resumable.State == ResumableSession.Phase.Ended ? resumable.EndReason : resumable.EndedByServer;

    /// <summary>
    /// The server ends the session for good (its code closed the user's connection): from now on no resume may take
    /// it, whatever its phase. A dropped one ends at once (the user leaves); a live one ends when its connection has
    /// closed; one being resumed ends when that resume stops, refused.
    /// </summary>
    public void EndForGood(ResumableSession resumable, string reason)
    {
        bool dropped;
        lock (_lock)
        {
            if (resumable.State == ResumableSession.Phase.Ended || resumable.EndedByServer is not null)
            {
                return;
            }

            resumable.EndedByServer = reason;
            dropped = resumable.State == ResumableSession.Phase.Dropped;
        }

        if (dropped)
        {
            // Not here: room code may be calling, inside its turn, and the leave takes the turn.
            EndLater(resumable, reason);
        }
    }

    /// <summary>Marks the session ended (under the lock): its token is forgotten, remembered as ended with its reason
    /// for a while (so a late resume is told why), its grace timer stopped and its replay log closed.</summary>
    private void EndLocked(ResumableSession resumable, string reason)
    {
        resumable.State = ResumableSession.Phase.Ended;
        resumable.EndReason = reason;
        resumable.Grace?.Dispose();
        resumable.Grace = null;
        _byToken.Remove(resumable.Token);
        ForgetOldEndsLocked();
        _ended[resumable.Token] = (reason, _time.GetTimestamp());
        resumable.Outgoing.Close();
    }

    /// <summary>Ends the session, once; returns whether this call did (the caller then lets the user leave).</summary>
    public bool TryEnd(ResumableSession resumable, string reason)
    {
        lock (_lock)
        {
            if (resumable.State == ResumableSession.Phase.Ended)
            {
                return false;
            }

            bool wasDropped = resumable.State == ResumableSession.Phase.Dropped;

            // A session the server ended for good says so to a late resume, whichever connection's end ends it.
            reason = resumable.EndedByServer ?? reason;
            EndLocked(resumable, reason);
            if (wasDropped)
            {
                SessionLog.SessionEnded(_logger, resumable.Current.Id, resumable.User.Name, reason);
            }
        }

        return true;
    }

    /// <summary>Ends the session on the thread pool (never inside room code's turn) and lets the user leave.</summary>
    public void EndLater(ResumableSession resumable, string reason)
    {
        // Not an async lambda: as a work item it would run as async void, and an exception from the receiver would
        // take the process down. EndAndLeaveAsync never faults, so its task may be dropped.
        ThreadPool.UnsafeQueueUserWorkItem(
            static state => _ = state.Sessions.EndAndLeaveAsync(state.Session, state.Reason),
            (Sessions: this, Session: resumable, Reason: reason),
            preferLocal: false);
    }

    /// <summary>Ends every dropped session (the server is stopping); returns their users' leaves.</summary>
    public Task EndAllDroppedAsync(string reason)
    {
        List<ResumableSession> dropped;
        lock (_lock)
        {
            dropped = _byToken.Values.Where(s => s.State == ResumableSession.Phase.Dropped).ToList();
        }

        return Task.WhenAll(dropped.Select(s => EndAndLeaveAsync(s, reason)));
    }

    /// <summary>
    /// Ends the session, once, and lets the user leave. Never faults: nothing awaits a session ended from a timer or
    /// the thread pool, and one user's failed leave must not stop the server's stop for the others, so a receiver
    /// that throws (a bug above, or a cluster call that failed) is logged.
    /// </summary>
    private async Task EndAndLeaveAsync(ResumableSession resumable, string reason)
    {
        try
        {
            if (TryEnd(resumable, reason) && resumable.Receiver is { } receiver)
            {
                await receiver.EndAsync().ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            SessionLog.LeaveFailed(_logger, ex, resumable.Current.Id, resumable.User.Name);
        }
    }

    private void OnBroken(ResumableSession resumable)
    {
        // Over its bound while dropped: no resume can succeed any more, so the user leaves now. (While live, the
        // session goes on, and ends when its connection does.)
        bool dropped;
        lock (_lock)
        {
            dropped = resumable.State == ResumableSession.Phase.Dropped;
        }

        SessionLog.CannotResume(_logger, resumable.Current.Id, resumable.User.Name, resumable.Outgoing.BrokenReason ?? string.Empty);
        if (dropped)
        {
            EndLater(resumable, "the session could not be kept: " + resumable.Outgoing.BrokenReason);
        }
    }

    private void ForgetOldEndsLocked()
    {
        if (_ended.Count < 64)
        {
            return;
        }

        long now = _time.GetTimestamp();
        TimeSpan keep = GracePeriod + GracePeriod;
        foreach (KeyValuePair<string, (string Reason, long At)> ended in _ended)
        {
            if (_time.GetElapsedTime(ended.Value.At, now) > keep)
            {
                _ended.Remove(ended.Key);
            }
        }
    }
}
