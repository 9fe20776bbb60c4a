using Microsoft.Extensions.Logging;
using Wevis.Protocol;
using Wevis.Transport;

namespace Wevis.Sessions;

/// <summary>
/// The client's side of a connection, from the welcome to the close: it answers the welcome with the login,
/// waits for the server's decision, answers keep-alive and closing messages, takes a server that goes silent as
/// lost, and hands every other message, in order, to the <see cref="IClientReceiver"/>.
/// </summary>
internal sealed class ClientSession : IMessageBatchHandler
{
    private readonly MessageConnection _transport;
    private readonly LoginRequest _request;
    private readonly IClientReceiver _receiver;
    private readonly TimeProvider _time;
    private readonly TimeSpan _serverTimeout;
    private readonly ILogger _logger;
    private readonly string _host;
    private readonly int _port;
    private readonly TaskCompletionSource _loggedIn = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ClientResumeState? _resume;
    private ITimer? _watchdog;
    private ITimer? _acknowledger;
    private Resumed? _resumed;
    private int _phase; // a Phase
    private int _login; // a LoginState: changed only by compare-and-swap, so sending and withholding the login exclude each other
    private Exception? _loginFailure;

    public ClientSession(MessageConnection transport, LoginRequest request, IClientReceiver receiver, FlushBatch batch, TimeProvider time, TimeSpan serverTimeout, ILogger logger, string host, int port, ClientResumeState? resume = null)
    {
        _resume = resume;
        _transport = transport;
        _request = request;
        _receiver = receiver;
        _time = time;
        _serverTimeout = serverTimeout;
        _logger = logger;
        _host = host;
        _port = port;
        Batch = batch;
    }

    private enum Phase
    {
        AwaitingWelcome,
        AwaitingLoginResult,
        LoggedIn,
        Closed,
    }

    private enum LoginState
    {
        NotSent,
        Sent,
        Withheld,
    }

    /// <summary>Defers the flushes of what is sent while this session's messages are handled.</summary>
    public FlushBatch Batch { get; }

    /// <summary>Completes when logged in; fails with why the login did not happen.</summary>
    public Task LoggedIn => _loggedIn.Task;

    /// <summary>
    /// Runs on the receive loop the moment the login is accepted, before any message after it is handed up (the
    /// <see cref="LoggedIn"/> task's continuations run later, elsewhere): what must be true before the replayed
    /// messages of a resume are seen, such as the count of resumes. False if the login is no longer wanted (the
    /// client gave up on this reconnect attempt an instant before): the session then ends as a login that failed,
    /// without a farewell, so that <see cref="HasLoggedIn"/> never says otherwise and the server keeps the session
    /// for the next attempt.
    /// </summary>
    public Func<bool>? OnLoggedIn { get; set; }

    /// <summary>
    /// Whether the login has been sent (the welcome was answered): from then on the server may accept it, so a client
    /// that gives it up while stopping tells the server (<c>_Closing</c>, which the server reads after the login).
    /// </summary>
    public bool LoginSent => Volatile.Read(ref _login) == (int)LoginState.Sent;

    /// <summary>
    /// The client is stopping and gives this connection up: the welcome is no longer answered with the login. Returns
    /// true if the login was sent already (the server may accept it: tell it, <c>_Closing</c>, which it reads after
    /// the login), false if it never will be (the connection may be cut). One atomic step with the welcome's answer,
    /// so a welcome handled at the same instant either sent the login before this (true) or sends none: looked at
    /// apart, a welcome answered between the look and the cut would send the login just before the cut, and the
    /// server would take it for a lost connection and hold the session for its grace period.
    /// </summary>
    public bool WithholdLogin() =>
        Interlocked.CompareExchange(ref _login, (int)LoginState.Withheld, (int)LoginState.NotSent) == (int)LoginState.Sent;

    /// <summary>Whether the login has been accepted and the session has not ended.</summary>
    public bool IsLoggedIn => Volatile.Read(ref _phase) == (int)Phase.LoggedIn;

    /// <summary>Whether the login was accepted (the session may have ended since).</summary>
    public bool HasLoggedIn => _loggedIn.Task.IsCompletedSuccessfully;

    /// <summary>Whether the server ended the session on purpose (it said why, or refused the login): not a lost connection.</summary>
    public bool EndedByServer { get; private set; }

    /// <summary>How many of this client's messages the server had not handled when this login resumed the session.</summary>
    public long ReplayedToServer { get; private set; }

    /// <summary>Whether this login resumed an earlier session (rather than starting one).</summary>
    public bool ResumedSession { get; private set; }

    /// <summary>Starts sending (the hello first), and the watch for a silent server.</summary>
    public void Start()
    {
        _transport.Start();

        // Speaking first lets a TLS server tell at once that this client is plain (docs/protocol.md).
        _transport.TrySend(new Hello(WireProtocol.Version));
        if (_serverTimeout != Timeout.InfiniteTimeSpan)
        {
            TimeSpan period = _serverTimeout / 4;
            _watchdog = _time.CreateTimer(static state => ((ClientSession)state!).CheckServerSilence(), this, period, period);
        }

        if (_resume is not null)
        {
            // What arrived since the last acknowledgement, in a quiet moment (busy moments acknowledge per batch).
            _acknowledger = _time.CreateTimer(static state => ((ClientSession)state!).AcknowledgeQuietly(), this, AcknowledgeInterval, AcknowledgeInterval);
        }
    }

    /// <summary>
    /// Receives until the connection ends, closes it (telling the server why, where it broke the protocol) and
    /// fails the login if it had not finished. Returns why the connection ended.
    /// </summary>
    public async Task<string> RunAsync()
    {
        ReceiveOutcome outcome = await _transport.ReceiveAsync(this).ConfigureAwait(false);
        if (outcome.IsProtocolViolation && !(outcome.EndedMidFrame && _resume is { IsResumable: true }))
        {
            ClientLog.ProtocolViolation(_logger, _host, _port, outcome.Reason);
            _transport.Close(outcome.Reason, new Closing(outcome.Reason));
        }
        else
        {
            _transport.Close(outcome.Reason);
        }

        string reason = _transport.CloseReason ?? outcome.Reason;
        Volatile.Write(ref _phase, (int)Phase.Closed);
        _loggedIn.TrySetException(_loginFailure ?? new ConnectionFailedException($"The connection to {_host}:{_port} closed before the login finished: {reason}"));
        if (_watchdog is not null)
        {
            await _watchdog.DisposeAsync().ConfigureAwait(false);
        }

        if (_acknowledger is not null)
        {
            await _acknowledger.DisposeAsync().ConfigureAwait(false);
        }

        return reason;
    }

    ValueTask IMessageBatchHandler.HandleBatchAsync(MessageConnection transport, List<IMessage> messages)
    {
        try
        {
            int i = 0;
            while (i < messages.Count && !transport.IsClosing)
            {
                switch ((Phase)Volatile.Read(ref _phase))
                {
                    case Phase.AwaitingWelcome:
                        HandleWelcome(messages[i++]);
                        continue;
                    case Phase.AwaitingLoginResult:
                        HandleLoginResult(messages[i++]);
                        continue;
                }

                // A run of messages for the layer above, up to the next one handled here.
                int start = i;
                while (i < messages.Count && !IsSessionMessage(messages[i]))
                {
                    i++;
                }

                if (i > start)
                {
                    // The receiver's continuations run here, inside the batch: their replies go out together below.
                    using (Batch.Enter())
                    {
                        _receiver.Receive(messages, start, i);
                    }

                    if (_resume is { IsResumable: true } resume)
                    {
                        resume.CountReceived(i - start);
                    }
                }

                if (i < messages.Count && !transport.IsClosing)
                {
                    HandleSessionMessage(messages[i++]);
                }
            }
        }
        finally
        {
            if (_resume is { IsResumable: true } resume && IsLoggedIn)
            {
                resume.CountReceivedBytes(transport.BatchBytes);
                Acknowledge(resume, SequencedDelivery.AcknowledgeEvery);
            }

            Batch.FlushAll();
        }

        return ValueTask.CompletedTask;
    }

    private static bool IsSessionMessage(IMessage message) =>
        message.Descriptor.IsProtocolMessage && message is Ping or Pong or Closing or Hello or Login or Welcome or LoginAccepted or LoginRejected or Ack or Resume or Resumed;

    private void HandleSessionMessage(IMessage message)
    {
        if (message is Ack ack)
        {
            if (_resume is not { IsResumable: true } resume || !resume.Acknowledged(ack.Received))
            {
                BreakProtocol(_resume is { IsResumable: true } resumable
                    ? $"the server sent _Ack(received: {ack.Received}) acknowledging more messages than the client sent ({resumable.Outgoing.Sent})"
                    : $"the server sent _Ack(received: {ack.Received}) on a session that is not resumable");
            }

            return;
        }

        switch (SessionProtocol.Handle(_transport, message, "server"))
        {
            case SessionProtocol.Outcome.NotHandled:
                BreakProtocol($"the server sent {message.Descriptor.Name} after the login");
                break;
            case SessionProtocol.Outcome.PeerClosing:
                EndedByServer = true;
                break;
        }
    }

    /// <summary>How often a resumable session acknowledges what arrived in a quiet moment.</summary>
    internal static readonly TimeSpan AcknowledgeInterval = TimeSpan.FromMilliseconds(250);

    private void Acknowledge(ClientResumeState resume, long atLeast)
    {
        long received = resume.TakeAcknowledgement(atLeast);
        if (received >= 0)
        {
            _transport.TrySend(new Ack(received));
        }
    }

    private void AcknowledgeQuietly()
    {
        if (_resume is { IsResumable: true } resume && IsLoggedIn && !_transport.IsClosing)
        {
            Acknowledge(resume, 1);
            resume.CheckAge(_time.GetTimestamp(), MaxUnacknowledgedAge, _time);
        }
    }

    /// <summary>With a resumable session: how long sent messages may wait for the server's acknowledgement.</summary>
    public TimeSpan MaxUnacknowledgedAge { get; init; } = TimeSpan.FromMinutes(1);

    private void HandleWelcome(IMessage message)
    {
        switch (message)
        {
            case Welcome { Protocol: not WireProtocol.Version } welcome:
                _loginFailure = new ConnectionFailedException(
                    $"The server speaks Wevis protocol version {welcome.Protocol}; this client speaks version {WireProtocol.Version}.");
                _transport.Close(_loginFailure.Message, new Closing(_loginFailure.Message));
                break;
            case Welcome welcome:
                if (Interlocked.CompareExchange(ref _login, (int)LoginState.Sent, (int)LoginState.NotSent) != (int)LoginState.NotSent)
                {
                    // Withheld (WithholdLogin): the client gave this connection up, and the server holds nothing for it yet.
                    _loginFailure = new ConnectionFailedException($"The client gave up the connection to {_host}:{_port} before its login was sent.");
                    _transport.Abort(_loginFailure.Message);
                    break;
                }

                Volatile.Write(ref _phase, (int)Phase.AwaitingLoginResult);
                if (_resume is not null)
                {
                    // Asks for a resumable session (empty token) or to resume this one; the server answers with _Resumed.
                    _transport.TrySend(new Resume(_resume.Token, _resume.Received));
                }

                _transport.TrySend(new Login(_request.Username, Credentials.Encrypt(_request.Password, welcome.Salt), _request.Version, _request.Fingerprint));
                break;
            case Closing closing:
                FailBeforeLogin(closing);
                break;
            default:
                BreakProtocol($"the server sent {message.Descriptor.Name} instead of its welcome");
                break;
        }
    }

    private void HandleLoginResult(IMessage message)
    {
        switch (message)
        {
            case Resumed resumed when _resume is not null && _resumed is null:
                _resumed = resumed;
                break;
            case LoginAccepted:
                if (_resume is not null && !StartSequencing(_resume))
                {
                    break;
                }

                Volatile.Write(ref _phase, (int)Phase.LoggedIn);
                if (OnLoggedIn is { } onLoggedIn && !onLoggedIn())
                {
                    // Aborted, not closed: a farewell would end the session the server has just resumed, which the
                    // client's next attempt is to resume. Closing stops the messages after this one being handed up.
                    _loginFailure = new ConnectionFailedException($"The login to {_host}:{_port} was accepted after the client had given up on it.");
                    _transport.Abort(_loginFailure.Message);
                    Volatile.Write(ref _phase, (int)Phase.Closed);
                    break;
                }

                _loggedIn.TrySetResult();
                break;
            case LoginRejected rejected:
                EndedByServer = true;
                ClientLog.LoginRejected(_logger, _host, _port, _request.Username, rejected.Reason);
                _loginFailure = new LoginRejectedException(rejected.Reason);
                _transport.Close("the login was rejected: " + rejected.Reason);
                break;
            case Closing closing:
                FailBeforeLogin(closing);
                break;
            default:
                BreakProtocol($"the server sent {message.Descriptor.Name} instead of the login's result");
                break;
        }
    }

    /// <summary>
    /// The login was accepted on a client that asked for a resumable session: from the server's <c>_Resumed</c>, the
    /// token, and the replay of what the server had not handled. Without it (an older server, or resuming off there)
    /// the session is an ordinary one. False if the replay cannot be (the connection is then closed).
    /// </summary>
    private bool StartSequencing(ClientResumeState resume)
    {
        if (_resumed is not { } resumed)
        {
            if (resume.IsResumable)
            {
                _loginFailure = new LoginRejectedException("resume refused: the server no longer offers resumable sessions");
                EndedByServer = true;
                _transport.Close(_loginFailure.Message, new Closing(_loginFailure.Message));
                return false;
            }

            return true;
        }

        ResumedSession = resume.IsResumable;
        resume.Token = resumed.Token;
        ReplayedToServer = resume.Outgoing.Sent - resumed.Received;
        if (!resume.ReplayOn(_transport, resumed.Received))
        {
            string reason = $"cannot resume: the server says it handled {resumed.Received} messages; this client can replay from {resume.Outgoing.Acknowledged} to {resume.Outgoing.Sent}"
                + (resume.Outgoing.BrokenReason is { } broken ? " (" + broken + ")" : string.Empty);
            _loginFailure = new LoginRejectedException(reason);
            EndedByServer = true;
            _transport.Close(reason, new Closing(reason));
            return false;
        }

        return true;
    }

    /// <summary>The server said why it is closing before the login finished: that is why connecting failed.</summary>
    private void FailBeforeLogin(Closing closing)
    {
        EndedByServer = true;
        _loginFailure = new ConnectionFailedException("The server closed the connection: " + closing.Reason);
        _transport.Close("the server closed the connection: " + closing.Reason);
    }

    private void BreakProtocol(string reason)
    {
        ClientLog.ProtocolViolation(_logger, _host, _port, reason);
        _loginFailure ??= new ConnectionFailedException("The server broke the Wevis protocol: " + reason);
        _transport.Close(reason, new Closing(reason));
    }

    private void CheckServerSilence()
    {
        if (!_transport.IsClosing && _time.GetElapsedTime(_transport.LastReceivedTimestamp) > _serverTimeout)
        {
            _transport.Abort($"nothing arrived from the server for {_serverTimeout.TotalSeconds:0.###} s");
        }
    }
}

/// <summary>What the client logs in with.</summary>
/// <param name="Username">The name to log in as.</param>
/// <param name="Password">The password; only its salted hash is sent.</param>
/// <param name="Version">The client program's version.</param>
/// <param name="Fingerprint">The fingerprint of the client's message definitions.</param>
internal sealed record LoginRequest(string Username, string Password, string Version, string Fingerprint);
