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
    private ITimer? _watchdog;
    private int _phase; // a Phase
    private Exception? _loginFailure;

    public ClientSession(MessageConnection transport, LoginRequest request, IClientReceiver receiver, FlushBatch batch, TimeProvider time, TimeSpan serverTimeout, ILogger logger, string host, int port)
    {
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

    /// <summary>Defers the flushes of what is sent while this session's messages are handled.</summary>
    public FlushBatch Batch { get; }

    /// <summary>Completes when logged in; fails with why the login did not happen.</summary>
    public Task LoggedIn => _loggedIn.Task;

    /// <summary>Whether the login has been accepted and the session has not ended.</summary>
    public bool IsLoggedIn => Volatile.Read(ref _phase) == (int)Phase.LoggedIn;

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
    }

    /// <summary>
    /// Receives until the connection ends, closes it (telling the server why, where it broke the protocol) and
    /// fails the login if it had not finished. Returns why the connection ended.
    /// </summary>
    public async Task<string> RunAsync()
    {
        ReceiveOutcome outcome = await _transport.ReceiveAsync(this).ConfigureAwait(false);
        if (outcome.IsProtocolViolation)
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
                }

                if (i < messages.Count && !transport.IsClosing)
                {
                    HandleSessionMessage(messages[i++]);
                }
            }
        }
        finally
        {
            Batch.FlushAll();
        }

        return ValueTask.CompletedTask;
    }

    private static bool IsSessionMessage(IMessage message) =>
        message.Descriptor.IsProtocolMessage && message is Ping or Pong or Closing or Hello or Login or Welcome or LoginAccepted or LoginRejected;

    private void HandleSessionMessage(IMessage message)
    {
        if (SessionProtocol.Handle(_transport, message, "server") == SessionProtocol.Outcome.NotHandled)
        {
            BreakProtocol($"the server sent {message.Descriptor.Name} after the login");
        }
    }

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
                Volatile.Write(ref _phase, (int)Phase.AwaitingLoginResult);
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
            case LoginAccepted:
                Volatile.Write(ref _phase, (int)Phase.LoggedIn);
                _loggedIn.TrySetResult();
                break;
            case LoginRejected rejected:
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

    /// <summary>The server said why it is closing before the login finished: that is why connecting failed.</summary>
    private void FailBeforeLogin(Closing closing)
    {
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
