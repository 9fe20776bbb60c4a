using System.Net;
using Microsoft.Extensions.Logging;
using Wevis.Protocol;
using Wevis.Transport;

namespace Wevis.Sessions;

/// <summary>
/// The server's side of one connection, from the welcome to the close: it sends the welcome with a fresh salt,
/// lets <see cref="ServerLogin"/> decide the login, answers keep-alive and closing messages, and hands every
/// other message of a logged-in user, in order, to the <see cref="ISessionReceiver"/> the host gave it.
/// </summary>
internal sealed class ServerSession : IMessageBatchHandler
{
    private readonly ServerLogin _login;
    private readonly ISessionHost _host;
    private readonly ILogger _logger;
    private readonly string _fingerprint;
    private readonly TimeProvider _time;
    private readonly ResumableSessions? _resumption;
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Cancelled when the connection's login clock (from its accept) runs out: a login still being decided is over.</summary>
    private readonly CancellationTokenSource _loginTimedOut = new();
    private ISessionReceiver? _receiver;
    private ResumableSession? _resumable;
    private Resume? _resumeRequest;
    private bool _endsSession;
    private User? _user;
    private int _state; // a State

    /// <summary>The connection's place under the per-user limit: a <see cref="UserPlace"/>, changed by compare-and-set.</summary>
    private int _place; // a UserPlace
    private bool _dispatching;
    private long _dispatchEnded;
    private long _pingSent;
    private bool _pingOutstanding;

    public ServerSession(long id, MessageConnection transport, ServerLogin login, ISessionHost host, string fingerprint, FlushBatch batch, TimeProvider time, ILogger logger, ResumableSessions? resumption = null)
    {
        _resumption = resumption;
        Id = id;
        Transport = transport;
        _login = login;
        _host = host;
        _fingerprint = fingerprint;
        Batch = batch;
        _time = time;
        _logger = logger;
        Salt = Credentials.NewSalt();
        _dispatchEnded = time.GetTimestamp();
    }

    private enum State
    {
        LoggingIn,
        LoggedIn,
        Closed,
    }

    /// <summary>Where the connection stands under the per-user connection limit.</summary>
    private enum UserPlace
    {
        /// <summary>It holds one of its user's places (once its login is accepted), given back once (<see cref="ReleaseUser"/>).</summary>
        Holds,

        /// <summary>
        /// A resume admitted without a place of its own (<see cref="BorrowPlaceOfResumedConnection"/>): it takes the one
        /// of the connection it replaces once it holds the session's resume gate (<see cref="TakePlaceOf"/>).
        /// </summary>
        Borrows,

        /// <summary>Its place was given back, or handed over to a resume replacing it.</summary>
        Released,
    }

    /// <summary>A number that identifies the connection in logs.</summary>
    public long Id { get; }

    public MessageConnection Transport { get; }

    /// <summary>The salt sent in this connection's welcome.</summary>
    public string Salt { get; }

    /// <summary>Defers the flushes of what is sent while this session's messages are handled.</summary>
    public FlushBatch Batch { get; }

    /// <summary>The logged-in user; null before the login.</summary>
    public User? User => _user;

    public EndPoint? RemoteEndPoint => Transport.RemoteEndPoint;

    public bool IsLoggingIn => Volatile.Read(ref _state) == (int)State.LoggingIn;

    public bool IsLoggedIn => Volatile.Read(ref _state) == (int)State.LoggedIn;

    public string UserName => _user?.Name ?? "not logged in";

    /// <summary>Whether the login was accepted (the session may have closed since).</summary>
    public bool HasLoggedIn => Volatile.Read(ref _receiver) is not null;

    /// <summary>Whether the server has pinged the peer and not yet heard anything since.</summary>
    public bool AwaitsPong => _pingOutstanding;

    /// <summary>Whether the server is handling a batch from this connection, waiting for a room's turn included.</summary>
    public bool IsDispatching => Volatile.Read(ref _dispatching);

    /// <summary>
    /// Whether the user's session is open: its connection is, or (a resumable session) it was lost and is kept for
    /// the client to come back. Room code sees this as <see cref="Connection.IsOpen"/>, so a run of messages handed
    /// up is handled whole even when the socket drops meanwhile (each was counted as received).
    /// </summary>
    public bool IsSessionOpen => _resumable is { } resumable
        ? resumable.State != ResumableSession.Phase.Ended && resumable.EndedByServer is null && !(_endsSession && ReferenceEquals(resumable.Current, this))
        : !Transport.IsClosing;

    /// <summary>The resumable session this connection carries; null for an ordinary one.</summary>
    internal ResumableSession? Resumable => _resumable;

    /// <summary>Completes when the receive loop has ended and the session's end (or drop) has been handled.</summary>
    public Task Finished => _finished.Task;

    /// <summary>Set when the peer broke the protocol, so the close is logged as a warning.</summary>
    public bool BrokeProtocol { get; private set; }

    /// <summary>Starts sending and sends the welcome.</summary>
    public void Start()
    {
        Transport.Start();
        Transport.TrySend(new Welcome(WireProtocol.Version, Salt, _fingerprint));
    }

    /// <summary>
    /// Receives until the connection ends, then closes it (telling the peer why, where it broke the protocol), logs
    /// a violation or a drop, and lets the user leave if they had logged in. Returns why the connection ended.
    /// </summary>
    public async Task<string> RunAsync()
    {
        try
        {
            return await ReceiveUntilEndAsync().ConfigureAwait(false);
        }
        catch
        {
            await FailAsync().ConfigureAwait(false);
            throw;
        }
        finally
        {
            // On every path: a resume waiting for this connection to finish would otherwise wait out its login timeout.
            _finished.TrySetResult();
        }
    }

    /// <summary>Why a connection is cut when the server fails on it (a bug, not the peer's doing).</summary>
    internal const string FailedReason = "the server failed while handling the connection";

    /// <summary>
    /// An unexpected error ended this connection's receive loop or its end: the connection is cut and the session
    /// ends with it, unless a resume has taken it over (it goes on there). Settled here, before <see cref="Finished"/>
    /// completes, so that a resume waiting for this connection finds the session as this connection left it.
    /// </summary>
    private async ValueTask FailAsync()
    {
        ReleaseUser();
        Transport.Abort(FailedReason);
        if (_resumable is { } resumable && (!ReferenceEquals(resumable.Current, this) || resumable.State == ResumableSession.Phase.Resuming))
        {
            Volatile.Write(ref _state, (int)State.Closed);
            return;
        }

        await EndAsync().ConfigureAwait(false);
    }

    private async Task<string> ReceiveUntilEndAsync()
    {
        ReceiveOutcome outcome = await Transport.ReceiveAsync(this).ConfigureAwait(false);

        // A resumable session's connection cut in the middle of a frame was lost, not misused: the frame is replayed.
        if (outcome.IsProtocolViolation && !(outcome.EndedMidFrame && _resumable is not null))
        {
            CloseForViolation(outcome.Reason);
        }
        else
        {
            ReleaseUser();
            Transport.Close(outcome.Reason);
        }

        string reason = Transport.CloseReason ?? outcome.Reason;
        if (BrokeProtocol)
        {
            SessionLog.ProtocolViolation(_logger, Id, UserName, RemoteEndPoint, reason);
        }
        else if (Transport.QueueLimitExceeded)
        {
            SessionLog.NotReading(_logger, Id, UserName, RemoteEndPoint, reason);
        }

        if (_resumable is { } resumable && !_endsSession && _resumption is { } resumption)
        {
            if (resumption.TryDrop(resumable, this, reason))
            {
                Volatile.Write(ref _state, (int)State.Closed);
                await resumable.Receiver!.DroppedAsync().ConfigureAwait(false);
                return reason;
            }

            if (!ReferenceEquals(resumable.Current, this) || resumable.State == ResumableSession.Phase.Resuming)
            {
                // Another connection resumed the session (this one still looked alive): nothing ends here.
                Volatile.Write(ref _state, (int)State.Closed);
                return reason;
            }
        }

        await EndAsync().ConfigureAwait(false);
        return reason;
    }

    /// <summary>Marks the session closed and, the first time, lets a logged-in user leave.</summary>
    public async ValueTask EndAsync()
    {
        ReleaseUser();
        if (Interlocked.Exchange(ref _state, (int)State.Closed) == (int)State.LoggedIn && _receiver is { } receiver)
        {
            if (_resumable is { } resumable
                && (!ReferenceEquals(resumable.Current, this) || !_resumption!.TryEnd(resumable, EndReason(resumable))))
            {
                return;
            }

            await receiver.EndAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Why a resumable session ends with this connection: a client that comes back is told, so a session that could not be kept says why.</summary>
    private string EndReason(ResumableSession resumable)
    {
        string closed = Transport.CloseReason ?? "the connection closed";
        return resumable.Outgoing.BrokenReason is { } broken ? $"{closed}, and the session could not be kept: {broken}" : closed;
    }

    /// <summary>Closes the connection: the client is told <paramref name="reason"/>, after the messages already queued.</summary>
    /// <param name="reason">Why, for the client and the log.</param>
    /// <param name="linger">How long queued output and the client's own close may take; null: the usual linger.</param>
    public void Close(string reason, TimeSpan? linger = null)
    {
        _endsSession = true;
        if (_resumable is { } resumable)
        {
            // The server's code ends the user's session, not just this connection: from now on no resume may take it,
            // even while this connection is still closing (its client may never read the farewell). A dropped one
            // ends now, not when the grace period runs out.
            _resumption!.EndForGood(resumable, "the session was ended by the server: " + reason);
            ServerSession current = resumable.Current;
            if (!ReferenceEquals(current, this) && resumable.State != ResumableSession.Phase.Ended)
            {
                // A resume has just moved the session to another connection, which the caller's Connection does not
                // point at yet: that one is the user's now, and is closed.
                current.Close(reason, linger);
            }
        }

        ReleaseUser();
        Transport.Close(reason, new Closing(reason), linger);
    }

    /// <summary>
    /// The connection's login clock ran out before the login was accepted: it is closed as a violation (the peer is
    /// told first), and a login still being decided is over too. It would otherwise go on for its own login timeout,
    /// started only when the login arrived: waiting for, then taking, one of its address's throttle attempts, and
    /// asking the validator for a connection already closed.
    /// </summary>
    public void LoginTimedOut(string reason)
    {
        if (IsLoggingIn)
        {
            CloseForViolation(reason);
            _loginTimedOut.Cancel();
        }
    }

    /// <summary>Closes because the peer broke the protocol; the peer is told why.</summary>
    public void CloseForViolation(string reason)
    {
        _endsSession = true;
        BrokeProtocol = true;
        ReleaseUser();
        Transport.Close(reason, new Closing(reason), MessageConnection.MisbehaviourLingerTimeout);
    }

    /// <summary>
    /// The keep-alive's look at this session: pings a connection quiet for <paramref name="interval"/>, and closes
    /// one that has not answered a ping within <paramref name="timeout"/>. Time the server spends on the
    /// connection's messages (waiting for a busy room included) is not the peer's silence: its answers wait unread
    /// in the socket meanwhile.
    /// </summary>
    public void CheckKeepAlive(long now, TimeSpan interval, TimeSpan timeout)
    {
        if (!IsLoggedIn || Transport.IsClosing)
        {
            return;
        }

        long lastReceived = Math.Max(Transport.LastReceivedTimestamp, Volatile.Read(ref _dispatchEnded));
        if (_pingOutstanding)
        {
            if (lastReceived >= _pingSent)
            {
                _pingOutstanding = false;
            }
            else if (_time.GetElapsedTime(_pingSent, now) >= timeout && !Volatile.Read(ref _dispatching))
            {
                if (_resumable is null)
                {
                    Close($"no answer to a ping within {timeout.TotalSeconds:0.###} s");
                }
                else
                {
                    // Most likely half-open (the peer's side is gone without a reset): a drop, the session is kept.
                    Transport.Abort($"no answer to a ping within {timeout.TotalSeconds:0.###} s");
                }

                return;
            }
        }
        else
        {
            TimeSpan quiet = _time.GetElapsedTime(lastReceived, now);
            if (quiet >= interval)
            {
                _pingSent = now;
                _pingOutstanding = true;
                SessionLog.Pinged(_logger, Id, UserName, (long)quiet.TotalMilliseconds);
                Transport.TrySend(new Ping());
            }
        }

        if (_resumable is { } resumable)
        {
            // What arrived since the last acknowledgement, in a quiet moment; and sent frames waiting too long.
            SendAcknowledgement(resumable, 1);
            resumable.CheckAge(now, _resumption!.MaxUnacknowledgedAge, _time);
        }
    }

    private void SendAcknowledgement(ResumableSession resumable, long atLeast)
    {
        long received = resumable.TakeAcknowledgement(atLeast);
        if (received >= 0)
        {
            Transport.TrySend(new Ack(received));
        }
    }

    async ValueTask IMessageBatchHandler.HandleBatchAsync(MessageConnection transport, List<IMessage> messages)
    {
        Volatile.Write(ref _dispatching, true);
        try
        {
            int i = 0;
            while (i < messages.Count && !transport.IsClosing)
            {
                if (!IsLoggedIn)
                {
                    if (messages[i] is Hello hello)
                    {
                        // The client speaks first, so that a TLS server can tell a plain client at once (TlsGate).
                        if (hello.Protocol != WireProtocol.Version)
                        {
                            CloseForViolation($"the client speaks Wevis protocol version {hello.Protocol}; this server speaks version {WireProtocol.Version}");
                            return;
                        }

                        i++;
                        continue;
                    }

                    if (messages[i] is Resume resume && _resumeRequest is null)
                    {
                        _resumeRequest = resume;
                        i++;
                        continue;
                    }

                    if (messages[i] is not Login login)
                    {
                        CloseForViolation($"expected a login message but received {messages[i].Descriptor.Name}");
                        return;
                    }

                    i++;
                    await LogInAsync(login).ConfigureAwait(false);
                    continue;
                }

                // A run of messages for the layer above, up to the next one handled here.
                int start = i;
                while (i < messages.Count && !IsSessionMessage(messages[i]) && !OnlyTheServerSends(messages[i]))
                {
                    i++;
                }

                if (i > start)
                {
                    await _receiver!.ReceiveAsync(messages, start, i).ConfigureAwait(false);
                    _resumable?.CountReceived(i - start);
                }

                if (i < messages.Count && !transport.IsClosing)
                {
                    if (OnlyTheServerSends(messages[i]))
                    {
                        CloseForViolation($"sent {messages[i].Descriptor.Name}, which only the server sends");
                        return;
                    }

                    HandleSessionMessage(messages[i++]);
                }
            }
        }
        finally
        {
            if (_resumable is { } resumable && ReferenceEquals(resumable.Current, this))
            {
                resumable.CountReceivedBytes(transport.BatchBytes);
                SendAcknowledgement(resumable, SequencedDelivery.AcknowledgeEvery);
            }

            Batch.FlushAll();
            Volatile.Write(ref _dispatchEnded, _time.GetTimestamp());
            Volatile.Write(ref _dispatching, false);
        }
    }

    /// <summary>An application message defined <c>server:</c>, which a client may not send (the protocol's own are judged above).</summary>
    private static bool OnlyTheServerSends(IMessage message) =>
        message.Descriptor.Direction == MessageDirection.ServerToClient && !message.Descriptor.IsProtocolMessage;

    /// <summary>Whether this layer handles <paramref name="message"/> itself: keep-alive, closing, and login messages out of place.</summary>
    private static bool IsSessionMessage(IMessage message) =>
        message.Descriptor.IsProtocolMessage && message is Ping or Pong or Closing or Hello or Login or Welcome or LoginAccepted or LoginRejected or Ack or Resume or Resumed;

    private void HandleSessionMessage(IMessage message)
    {
        if (message is Closing)
        {
            // Released before the peer can see the connection close, so it may log in again at once.
            _endsSession = true;
            ReleaseUser();
        }

        if (message is Ack ack)
        {
            if (_resumable is null || !_resumable.Acknowledged(ack.Received))
            {
                CloseForViolation(_resumable is null
                    ? $"sent _Ack(received: {ack.Received}) on a session that is not resumable"
                    : $"sent _Ack(received: {ack.Received}) acknowledging more messages than the server sent ({_resumable.Outgoing.Sent})");
            }

            return;
        }

        if (SessionProtocol.Handle(Transport, message, "client") == SessionProtocol.Outcome.NotHandled)
        {
            CloseForViolation($"sent the protocol message {message.Descriptor.Name} after logging in");
        }
    }

    private async ValueTask LogInAsync(Login login)
    {
        bool resuming = _resumeRequest is { Token.Length: > 0 } && _resumption is not null;
        ValueTask<LoginDecision> deciding = _login.DecideAsync(
            Id, RemoteEndPoint, login, Salt, resuming ? BorrowPlaceOfResumedConnection : null, resuming ? RefusalOfResume : null, _loginTimedOut.Token);
        if (!deciding.IsCompletedSuccessfully)
        {
            Batch.FlushAll();
        }

        LoginDecision decision = await deciding.ConfigureAwait(false);
        if (decision.User is not { } user)
        {
            Transport.TrySend(new LoginRejected(decision.Reason!));
            Transport.Close("login rejected: " + decision.Reason);
            return;
        }

        if (Transport.IsClosing)
        {
            // Closed while the validator ran (the login timeout, say): give the place back, if it took one.
            if (TryLeavePlace())
            {
                _login.Release(user);
            }

            return;
        }

        if (_resumeRequest is { Token.Length: > 0 } request && _resumption is { } resumption)
        {
            await ResumeAsync(user, request, resumption).ConfigureAwait(false);
            return;
        }

        _user = user;
        Transport.MaxIncomingFrameSize = Transport.Limits.MaxFrameSize;
        if (_resumeRequest is not null && _resumption is not null)
        {
            // A new resumable session: the token goes first, then everything sequenced is logged for replay.
            ResumableSession resumable = _resumption.Create(user, this);
            Transport.TrySend(new Resumed(resumable.Token, 0));
            Transport.TrySend(new LoginAccepted());
            resumable.ReplayOn(Transport, 0);
            _receiver = _host.Accept(this);
            resumable.Receiver = _receiver;
            _resumable = resumable;
        }
        else
        {
            Transport.TrySend(new LoginAccepted());
            _receiver = _host.Accept(this);
        }

        Volatile.Write(ref _state, (int)State.LoggedIn);
        await _receiver.EnterAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// The login asked to resume a session, and the credentials were accepted (the throttle, the validator and the
    /// per-user limit all had their say): takes the session over from its last connection, which is cut if it still
    /// looks alive, then each side replays what the other has not handled.
    /// </summary>
    private async ValueTask ResumeAsync(User user, Resume request, ResumableSessions resumption)
    {
        // Set now: this connection holds a place of the user's from here on (or, admitted without one, takes one once
        // it holds the session's gate: TakePlaceOf), and gives it back when it ends or is refused.
        _user = user;
        string? refusal;
        ResumableSession? resumable;
        for (int attempt = 0; ; attempt++)
        {
            if ((resumable = resumption.Find(request.Token, user.Name, out refusal)) is not null)
            {
                break;
            }

            if (!ReferenceEquals(refusal, ResumableSessions.UnknownToken))
            {
                RefuseResume(user, refusal!);
                return;
            }

            // Not a session of this server's: it may be held elsewhere (a cluster gateway that died, say). One
            // connection at a time looks for a token; another (the client gave up on the first) waits for it, then
            // finds the session here if the first took it over.
            if (resumption.TryBeginAdoption(request.Token, out Task? underWay, out TaskCompletionSource? mine))
            {
                try
                {
                    await ResumeElsewhereAsync(user, request, resumption).ConfigureAwait(false);
                }
                finally
                {
                    resumption.EndAdoption(request.Token, mine!);
                }

                return;
            }

            try
            {
                if (attempt > 0)
                {
                    throw new TimeoutException();
                }

                SessionLog.ResumeWaitsForLookElsewhere(_logger, Id, user.Name);
                await underWay!.WaitAsync(_login.Timeout, _time).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                RefuseResume(user, "resume refused: another connection is resuming the session");
                return;
            }
        }

        if (!await EnterResumeGateAsync(resumable, user).ConfigureAwait(false))
        {
            if (_loginTimedOut.IsCancellationRequested || _login.Stopping.IsCancellationRequested || Transport.IsClosing)
            {
                // This connection is over (its login clock ran out and closed it, or the server is stopping and is
                // about to): nothing to tell the client, and not a failed login.
                ReleaseUser();
                return;
            }

            RefuseResume(user, "resume refused: another connection is resuming the session");
            return;
        }

        bool wasDropped;
        try
        {
            // The place under the per-user limit moves here only now, under the gate: if this resume could not have
            // gone on, the connection that keeps the session would have been left without one. From here on that
            // connection is cut, or the session is over, whatever becomes of this resume.
            if (!TakePlaceOf(resumable.Current, user, out refusal))
            {
                RefuseResume(user, "resume refused: " + refusal, countAsFailure: false);
                return;
            }

            if (!resumption.TryTake(resumable, this, out refusal))
            {
                RefuseResume(user, refusal!);
                return;
            }

            ServerSession previous = resumable.Current;
            if (!previous.Transport.IsClosing)
            {
                // The previous connection still looks alive (half-open, or the client gave up on it first): replaced.
                previous.Transport.Abort("another connection resumed the session");
            }

            try
            {
                // The previous connection's messages are all handed up (and counted) before this one's.
                await previous.Finished.WaitAsync(_login.Timeout, _time).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                resumption.EndLater(resumable, "the previous connection did not finish in time");
                RefuseResume(user, "resume refused: the previous connection did not finish in time");
                return;
            }

            if (Transport.IsClosing)
            {
                // This connection closed while it waited (its login clock ran out, say): taking the session onto it
                // would only drop it again, or end it with this connection. The session waits for its client again,
                // whose next connection may resume it; the room hears of a drop it has not heard of yet.
                if (resumption.GiveBack(resumable, this, Transport.CloseReason ?? "the connection resuming the session closed"))
                {
                    await resumable.Receiver!.DroppedAsync().ConfigureAwait(false);
                }

                return;
            }

            if (resumption.WhyOver(resumable) is { } over)
            {
                // Over meanwhile: the previous connection's end ended it, or the server's code ended it for good (then
                // nothing else ends it, if it was dropped when that resume took it).
                resumption.EndLater(resumable, over);
                RefuseResume(user, "resume refused: " + over);
                return;
            }

            if (!resumable.Outgoing.CanReplayFrom(request.Received))
            {
                string reason = resumable.Outgoing.BrokenReason is { } broken
                    ? "the session could not be kept: " + broken
                    : $"the client says it handled {request.Received} messages; the server can replay from {resumable.Outgoing.Acknowledged} to {resumable.Outgoing.Sent}";
                resumption.EndLater(resumable, reason);
                RefuseResume(user, "resume refused: " + reason);
                return;
            }

            // Decided under the sessions' lock, before the client is told: the server's code may end the session at
            // any moment until this connection carries it (after, closing the previous one closes this one: Close).
            if (!resumption.TryResume(resumable, this, out string? ended))
            {
                RefuseResume(user, "resume refused: " + ended);
                return;
            }

            // Whether the receiver heard of a drop (it then hears of the resume). Nothing changes that from here on:
            // only this connection may drop the session now, once its receive loop, which runs this login, is over.
            wasDropped = resumable.DropReported;
            resumable.DropReported = false;
            long replayed = resumable.Outgoing.Sent - request.Received;
            CarryResumed(resumable, request.Received);
            SessionLog.SessionResumed(_logger, Id, user.Name, previous.Id, replayed);
        }
        finally
        {
            resumable.ResumeGate.Release();
        }

        await _receiver!.ResumedAsync(this, wasDropped).ConfigureAwait(false);
    }

    /// <summary>
    /// Waits for the session's resume gate (another connection of its client is resuming it): at most the login
    /// timeout, on the server's clock; and no longer than this connection's own login clock (it is closed then) or
    /// the server's life. False if the gate was not entered.
    /// </summary>
    private async ValueTask<bool> EnterResumeGateAsync(ResumableSession resumable, User user)
    {
        if (resumable.ResumeGate.Wait(0))
        {
            return true;
        }

        SessionLog.ResumeWaits(_logger, Id, user.Name);
        using var patience = new CancellationTokenSource(_login.Timeout, _time);
        using CancellationTokenRegistration timedOut = _loginTimedOut.Token.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), patience);
        using CancellationTokenRegistration stopping = _login.Stopping.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), patience);
        try
        {
            await resumable.ResumeGate.WaitAsync(patience.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>
    /// Resumes a session this server did not hold: the host finds it (and takes it over from where it was), then
    /// it goes on here as if it had always been here: the client is told how many of its messages were handled,
    /// and what it has not handled is replayed with the numbers it expects.
    /// </summary>
    private async ValueTask ResumeElsewhereAsync(User user, Resume request, ResumableSessions resumption)
    {
        SessionElsewhere found;
        try
        {
            found = await _host.ResumeElsewhereAsync(this, user, request.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Not a refusal: the host could not find out now (a call failed or timed out), and may well on the next
            // try. So the client is not told its session is over (a LoginRejected ends it for good): the connection
            // is closed with a reason, and the client reconnects as after any failed attempt, maybe elsewhere.
            string reason = $"the session could not be resumed here yet ({ex.GetType().Name}: {ex.Message}); try again";
            SessionLog.ResumeFailedForNow(_logger, Id, RemoteEndPoint, user.Name, reason);
            Close(reason);
            return;
        }

        if (found.Receiver is not { } receiver)
        {
            RefuseResume(user, found.Refusal is { } why ? "resume refused: " + why : ResumableSessions.UnknownToken);
            return;
        }

        ResumableSession? adopted = resumption.Adopt(request.Token, user, this, found, out string? refusal);
        if (adopted is null)
        {
            // Taken over, but it cannot go on: the user leaves where they were.
            await receiver.EndAsync().ConfigureAwait(false);
            RefuseResume(user, "resume refused: " + refusal);
            return;
        }

        // Adopted with its resume gate held, until the adoption is over: a second resume of the session (its client gave
        // up on this connection) waits for it, then takes the session over from this one, as behind any resume. Held
        // while the receiver is told too, so that what it still has for the client reaches this connection first.
        try
        {
            if (!adopted.Outgoing.CanReplayFrom(request.Received))
            {
                refusal = $"the client says it handled {request.Received} messages; the session can replay from {adopted.Outgoing.Acknowledged} to {adopted.Outgoing.Sent}";
                resumption.EndLater(adopted, refusal);
                RefuseResume(user, "resume refused: " + refusal);
                return;
            }

            if (!resumption.TryResume(adopted, this, out string? ended))
            {
                RefuseResume(user, "resume refused: " + ended);
                return;
            }

            CarryResumed(adopted, request.Received);
            await receiver.ResumedAsync(this, wasDropped: false).ConfigureAwait(false);
        }
        finally
        {
            adopted.ResumeGate.Release();
        }
    }

    /// <summary>
    /// Takes <paramref name="resumable"/> onto this connection, once its resume can no longer be refused (the caller
    /// holds its resume gate, and <see cref="ResumableSessions.TryResume"/> or the adoption went through), whether it
    /// was held here or adopted from elsewhere. The client hears <c>_Resumed</c> (how many of its messages were handled) before
    /// <c>LoginAccepted</c>, then the replay of what it has not handled, numbered from <paramref name="clientHandled"/>.
    /// The state turns LoggedIn last: what reads it from other threads (the keep-alive, <see cref="EndAsync"/>) then
    /// finds the session and its receiver in place.
    /// </summary>
    private void CarryResumed(ResumableSession resumable, long clientHandled)
    {
        _resumable = resumable;
        _receiver = resumable.Receiver;
        Transport.MaxIncomingFrameSize = Transport.Limits.MaxFrameSize;
        Transport.TrySend(new Resumed(resumable.Token, resumable.Received));
        Transport.TrySend(new LoginAccepted());
        resumable.ReplayOn(Transport, clientHandled);
        _host.Resumed(this);
        Volatile.Write(ref _state, (int)State.LoggedIn);
    }

    /// <summary>
    /// The session this connection carries was taken over elsewhere (the client resumed at another server): it ends
    /// here without the user leaving, and this connection, if still open, is cut. False if it had ended already.
    /// </summary>
    internal bool HandOff(string reason)
    {
        if (_resumable is not { } resumable || _resumption is not { } resumption || !resumption.HandOff(resumable, reason))
        {
            return false;
        }

        if (ReferenceEquals(resumable.Current, this))
        {
            Transport.Abort(reason);
        }
        else
        {
            resumable.Current.Transport.Abort(reason);
        }

        return true;
    }

    private void RefuseResume(User user, string reason, bool countAsFailure = true)
    {
        SessionLog.ResumeRefused(_logger, Id, RemoteEndPoint, user.Name, reason);
        ReleaseUser();
        if (countAsFailure)
        {
            _login.RefuseResume(RemoteEndPoint);
        }

        Transport.TrySend(new LoginRejected(reason));
        Transport.Close(reason);
    }

    /// <summary>
    /// The resume's token, checked while the login is decided (<see cref="ServerLogin.DecideAsync"/>): why it is
    /// refused, or null if the resume may go on (the session is here, or the host may find it elsewhere). A refusal
    /// found later (the session ends meanwhile, or is not found elsewhere) is counted then (<see cref="RefuseResume"/>).
    /// The decision logs the refusal (as a refused resume, once).
    /// </summary>
    private string? RefusalOfResume(User user) =>
        _resumption!.Find(_resumeRequest!.Token, user.Name, out string? refusal) is not null
        || (ReferenceEquals(refusal, ResumableSessions.UnknownToken) && _host.ResumesElsewhere)
            ? null
            : refusal;

    /// <summary>
    /// The user has no place left, and this login resumes a session a connection still holds one for (the one
    /// carrying it, which still looks alive, or one resuming it): it is admitted without a place of its own, and takes
    /// that one only once it holds the session's resume gate (<see cref="TakePlaceOf"/>).
    /// </summary>
    private bool BorrowPlaceOfResumedConnection(User user)
    {
        if (_resumption!.ConnectionOf(_resumeRequest!.Token, user.Name) is null)
        {
            return false;
        }

        Volatile.Write(ref _place, (int)UserPlace.Borrows);
        return true;
    }

    /// <summary>
    /// A resume admitted without a place (<see cref="BorrowPlaceOfResumedConnection"/>) takes the place of
    /// <paramref name="previous"/>, the connection it replaces, or, if that one has given its place back meanwhile
    /// (it closed), one of the user's own; false, with the refusal, if there is none left.
    /// </summary>
    private bool TakePlaceOf(ServerSession previous, User user, out string? refusal)
    {
        refusal = null;
        if (Volatile.Read(ref _place) != (int)UserPlace.Borrows)
        {
            return true;
        }

        if (!previous.HandOverPlace() && !_login.TryTakePlace(user, out refusal))
        {
            return false;
        }

        // Held now: given back when this connection ends or is refused (the receive loop's end releases it, so a
        // close that raced this sees it given back there).
        Volatile.Write(ref _place, (int)UserPlace.Holds);
        return true;
    }

    /// <summary>A resume is replacing this connection: hands over its place under the per-user limit; false if it had none left.</summary>
    private bool HandOverPlace() => _user is not null && TryLeavePlace();

    /// <summary>Holds → released, once; false if the connection holds no place (it borrows one, or gave its own back).</summary>
    private bool TryLeavePlace() =>
        Interlocked.CompareExchange(ref _place, (int)UserPlace.Released, (int)UserPlace.Holds) == (int)UserPlace.Holds;

    /// <summary>
    /// Gives back the user's place under the per-user limit, once. Called before the peer can see the connection
    /// close, so a client that disconnects and at once logs in again is not refused.
    /// </summary>
    private void ReleaseUser()
    {
        if (_user is { } user && TryLeavePlace())
        {
            _login.Release(user);
        }
    }
}
