using System.Diagnostics.CodeAnalysis;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Wevis.Protocol;
using Wevis.Serialization;
using Wevis.Transport;

namespace Wevis;

/// <summary>
/// A Wevis client: connects to a server, logs in, then sends messages and receives the server's, in order. It
/// runs in the background (answering the server's pings by itself) and can be used in two styles:
/// </summary>
/// <remarks>
/// <para><b>Blocking</b>, as the original: <see cref="StartBlocking"/>, <see cref="Send"/>, <see cref="ReceiveBlocking{T}"/>, <see cref="Stop"/>.</para>
/// <para><b>Async</b>: <see cref="ConnectAsync"/>, <see cref="Send"/>, <see cref="ReceiveAsync{T}"/> or <see cref="ReadAllAsync"/>, <see cref="DisposeAsync"/>.</para>
/// <para>A request (<c>client: WhoAmI -&gt; YouAre</c>) is sent and its reply awaited in one call, <see cref="RequestAsync{TReply}(IRequest{TReply}, CancellationToken)"/>
/// or <see cref="RequestBlocking{TReply}"/>; other messages go to the receive methods as always.</para>
/// <para>A lost connection ends a waiting receive with <see cref="ConnectionClosedException"/>, never a hang.</para>
/// <para>Continuations of <see cref="ReceiveAsync(CancellationToken)"/> may run on the client's receive loop; replies sent
/// there go out together when the loop's current batch of messages is done. Do not block in such code.</para>
/// </remarks>
/// <example>
/// <code>
/// using var client = new Client("michael", "mypassword", "1.0.0", "localhost", 12121);
/// client.StartBlocking();
/// client.ReceiveBlocking&lt;ServerReady&gt;();
/// client.Send(new WhoAmI());
/// Console.WriteLine($"Username: {client.ReceiveBlocking&lt;YouAre&gt;().Name}");
/// </code>
/// </example>
public sealed class Client : IMessageBatchHandler, IAsyncDisposable, IDisposable
{
    /// <summary>How long stopping waits for the server to close its side of the connection.</summary>
    private static readonly TimeSpan PeerCloseTimeout = TimeSpan.FromSeconds(2);

    private readonly string _password;
    private readonly ClientOptions _options;
    private readonly ILogger _logger;
    private readonly MessageInbox _inbox = new();
    private readonly PendingRequests _requests = new();
    private readonly TimeProvider _time = TimeProvider.System;
    private readonly List<IMessage> _arrived = [];

    private readonly TaskCompletionSource _loggedIn = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly FlushBatch _batch = new();
    private readonly Lock _lifecycleLock = new();
    private MessageRegistry _messages = MessageRegistry.Empty;
    private MessageConnection? _transport;
    private Task _receiveLoop = Task.CompletedTask;
    private Timer? _watchdog;
    private int _phase; // a Phase
    private bool _stoppedLocally;
    private Exception? _loginFailure;

    /// <summary>Creates a client; nothing happens on the network until <see cref="ConnectAsync"/> or <see cref="StartBlocking"/>.</summary>
    /// <param name="username">The name to log in as.</param>
    /// <param name="password">The password; only its salted hash (<see cref="Credentials.Encrypt"/>) is sent.</param>
    /// <param name="version">This program's version, passed to the server's validator.</param>
    /// <param name="host">The server's host name or address.</param>
    /// <param name="port">The server's port.</param>
    /// <param name="options">Further settings.</param>
    public Client(string username, string password, string version, string host = "localhost", int port = ServerOptions.DefaultPort, ClientOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(username);
        ArgumentNullException.ThrowIfNull(password);
        ArgumentNullException.ThrowIfNull(version);
        ArgumentException.ThrowIfNullOrEmpty(host);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        Username = username;
        _password = password;
        Version = version;
        Host = host;
        Port = port;
        _options = options ?? new ClientOptions();
        _logger = _options.LoggerFactory?.CreateLogger("Wevis.Client") ?? NullLogger.Instance;
    }

    private enum Phase
    {
        New,
        AwaitingWelcome,
        AwaitingLoginResult,
        LoggedIn,
        Closed,
    }

    /// <summary>The name this client logs in as.</summary>
    public string Username { get; }

    /// <summary>This program's version, as sent to the server.</summary>
    public string Version { get; }

    /// <summary>The server's host.</summary>
    public string Host { get; }

    /// <summary>The server's port.</summary>
    public int Port { get; }

    /// <summary>Whether the client is logged in and the connection is open.</summary>
    public bool IsConnected => Volatile.Read(ref _phase) == (int)Phase.LoggedIn && _transport is { IsClosing: false };

    /// <summary>Why the connection closed, once it has.</summary>
    public string? CloseReason => _transport?.CloseReason;

    /// <summary>The message types this client speaks (without the protocol's own).</summary>
    public MessageRegistry Messages => _messages;

    /// <summary>Connects, logs in, and returns once logged in.</summary>
    /// <exception cref="LoginRejectedException">The server refused the login; the exception carries its reason.</exception>
    /// <exception cref="ConnectionFailedException">The server could not be reached, TLS failed, or the login did not finish in time.</exception>
    public async Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        lock (_lifecycleLock)
        {
            if (_phase != (int)Phase.New)
            {
                throw new InvalidOperationException("This client has already connected; create a new one to connect again.");
            }

            _phase = (int)Phase.AwaitingWelcome;
        }

        _options.Validate();
        _messages = _options.Messages ?? MessageRegistry.Default;
        ClientLog.Connecting(_logger, Host, Port, Username);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ConnectTimeout);
        try
        {
            await OpenAsync(timeout.Token).ConfigureAwait(false);
            await _loggedIn.Task.WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            var failure = new ConnectionFailedException(
                $"Could not connect and log in to {Host}:{Port} within {_options.ConnectTimeout.TotalSeconds:0.###} s.");
            Fail(failure.Message);
            throw failure;
        }
        catch (OperationCanceledException)
        {
            Fail("connecting was cancelled");
            throw;
        }
        catch (Exception ex) when (ex is not WevisException)
        {
            string reason = ex is System.Security.Authentication.AuthenticationException
                ? $"TLS with {Host}:{Port} failed: {ex.Message}{(ex.InnerException is null ? string.Empty : " " + ex.InnerException.Message)}"
                : $"Could not connect to {Host}:{Port}: {ex.Message}";
            Fail(reason);
            throw new ConnectionFailedException(reason, ex);
        }
        catch (WevisException ex)
        {
            Fail(ex.Message);
            throw;
        }

        ClientLog.LoggedIn(_logger, Host, Port, Username);
    }

    /// <summary>Connects and logs in, blocking until done, as the original's <c>start_blocking()</c>.</summary>
    /// <exception cref="LoginRejectedException">The server refused the login; the exception carries its reason.</exception>
    /// <exception cref="ConnectionFailedException">The server could not be reached, TLS failed, or the login did not finish in time.</exception>
    public void StartBlocking() => ConnectAsync().GetAwaiter().GetResult();

    /// <summary>
    /// Sends <paramref name="message"/> to the server; messages arrive in the order they were sent. Only messages that
    /// clients send (<c>client:</c>, or no direction) are <see cref="IClientMessage"/>s, so sending one of the server's
    /// does not compile.
    /// </summary>
    /// <exception cref="InvalidOperationException">The client has not logged in yet.</exception>
    /// <exception cref="ConnectionClosedException">The connection is closed.</exception>
    /// <exception cref="ArgumentTooLargeException">An argument is over its bound (the message is not sent).</exception>
    /// <exception cref="ArgumentException">The message is not one of the client's message types, or is over the frame limit.</exception>
    public void Send(IClientMessage message) => SendMessage(message);

    /// <summary>
    /// Sends a message whose type is known only at run time (a tool that sends messages typed in by hand, say), as
    /// <see cref="Send"/> does. Its direction is checked here instead of by the compiler: prefer <see cref="Send"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The message is one only the server sends, or as for <see cref="Send"/>.</exception>
    /// <exception cref="InvalidOperationException">The client has not logged in yet.</exception>
    /// <exception cref="ConnectionClosedException">The connection is closed.</exception>
    public void SendUntyped(IMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if ((message.Descriptor.Direction & MessageDirection.ClientToServer) == 0)
        {
            throw new ArgumentException($"{message.Descriptor.Name} is sent only by the server ({message.Descriptor.Definition}); a client cannot send it.", nameof(message));
        }

        SendMessage(message);
    }

    private void SendMessage(IMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        MessageConnection transport = LoggedInTransport();
        if (!transport.TrySend(message))
        {
            throw new ConnectionClosedException(transport.CloseReason ?? "the connection was closed");
        }
    }

    /// <summary>
    /// Sends <paramref name="request"/> and waits for its reply (<c>YouAre you = await client.RequestAsync(new WhoAmI());</c>),
    /// for at most <see cref="ClientOptions.RequestTimeout"/>. The reply's type comes from the request's definition
    /// (<c>WhoAmI -&gt; YouAre</c>). Other messages that arrive meanwhile, broadcasts and replies to other requests, go
    /// where they always go; many requests may be in flight at once, and each caller gets its own reply.
    /// </summary>
    /// <remarks>
    /// The caller's code after the <c>await</c> may run on the client's receive loop, as after
    /// <see cref="ReceiveAsync(CancellationToken)"/>: do not block there. A reply that arrives after the timeout or
    /// the cancellation is dropped, with a log line.
    /// </remarks>
    /// <exception cref="RequestFailedException">The room answered with a failure; the exception carries its reason.</exception>
    /// <exception cref="TimeoutException">No reply arrived in time.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ConnectionClosedException">The connection closed before the reply arrived.</exception>
    /// <exception cref="UnexpectedMessageException">The server answered with a message of another type.</exception>
    /// <exception cref="ArgumentTooLargeException">An argument is over its bound (the request is not sent).</exception>
    /// <exception cref="InvalidOperationException">The client has not logged in yet.</exception>
    public ValueTask<TReply> RequestAsync<TReply>(IRequest<TReply> request, CancellationToken cancellationToken = default)
        where TReply : IServerMessage =>
        RequestAsync(request, _options.RequestTimeout, cancellationToken);

    /// <summary>Sends <paramref name="request"/> and waits at most <paramref name="timeout"/> for its reply; otherwise as <see cref="RequestAsync{TReply}(IRequest{TReply}, CancellationToken)"/>.</summary>
    /// <exception cref="RequestFailedException">The room answered with a failure; the exception carries its reason.</exception>
    /// <exception cref="TimeoutException">No reply arrived within <paramref name="timeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ConnectionClosedException">The connection closed before the reply arrived.</exception>
    public ValueTask<TReply> RequestAsync<TReply>(IRequest<TReply> request, TimeSpan timeout, CancellationToken cancellationToken = default)
        where TReply : IServerMessage
    {
        ArgumentNullException.ThrowIfNull(request);
        if (timeout <= TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must be positive or infinite.");
        }

        MessageConnection transport = LoggedInTransport();
        if (!_messages.Contains(request.Descriptor))
        {
            throw new ArgumentException(
                $"{request.Descriptor.Name} ({request.Descriptor.MessageType.FullName}) is not one of this connection's message types; "
                + "pass the registry that defines it in the options.",
                nameof(request));
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<TReply>(cancellationToken);
        }

        var pending = new PendingRequest<TReply>(request, timeout);
        _requests.Add(pending);
        FrameBuffer frame;
        try
        {
            frame = FrameBuffer.Encode(pending);
        }
        catch
        {
            _requests.Remove(pending);
            throw;
        }

        try
        {
            if (frame.BodyLength > _options.MaxFrameSize)
            {
                _requests.Remove(pending);
                throw new ArgumentException(
                    $"The {request.Descriptor.Name} request is {frame.BodyLength} bytes, over the frame limit of {_options.MaxFrameSize} bytes.",
                    nameof(request));
            }

            pending.Start(_requests, _time, cancellationToken);
            if (!transport.TrySendFrame(frame.Frame))
            {
                pending.TryFail(new ConnectionClosedException(transport.CloseReason ?? "the connection was closed"));
            }
        }
        finally
        {
            FrameBuffer.Return(frame);
        }

        return new ValueTask<TReply>(pending, pending.Version);
    }

    /// <summary>Sends <paramref name="request"/> and blocks until its reply arrives, as <see cref="RequestAsync{TReply}(IRequest{TReply}, CancellationToken)"/> waits for it.</summary>
    /// <param name="request">The request.</param>
    /// <param name="timeout">How long to wait; null waits <see cref="ClientOptions.RequestTimeout"/>.</param>
    /// <exception cref="RequestFailedException">The room answered with a failure; the exception carries its reason.</exception>
    /// <exception cref="TimeoutException">No reply arrived in time.</exception>
    /// <exception cref="ConnectionClosedException">The connection closed before the reply arrived.</exception>
    /// <exception cref="InvalidOperationException">Called on the client's receive loop (in code continuing from an await of this client), where it would wait forever.</exception>
    public TReply RequestBlocking<TReply>(IRequest<TReply> request, TimeSpan? timeout = null)
        where TReply : IServerMessage
    {
        if (FlushBatch.Current == _batch)
        {
            throw new InvalidOperationException(
                "RequestBlocking was called on the client's receive loop (in code continuing from an await of this client), where it would wait forever; use RequestAsync there.");
        }

        ValueTask<TReply> reply = RequestAsync(request, timeout ?? _options.RequestTimeout);
        return reply.IsCompletedSuccessfully ? reply.Result : reply.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Waits for the next message from the server.</summary>
    /// <exception cref="ConnectionClosedException">The connection closed before a message arrived.</exception>
    /// <exception cref="InvalidOperationException">Another receive is already waiting: receive one message at a time.</exception>
    public ValueTask<IMessage> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        LoggedInTransport();
        return _inbox.DequeueAsync(cancellationToken);
    }

    /// <summary>Waits for the next message, which must be a <typeparamref name="T"/>.</summary>
    /// <exception cref="UnexpectedMessageException">The next message is of another type (it is consumed).</exception>
    /// <exception cref="ConnectionClosedException">The connection closed before a message arrived.</exception>
    public async ValueTask<T> ReceiveAsync<T>(CancellationToken cancellationToken = default)
        where T : IMessage
    {
        IMessage message = await ReceiveAsync(cancellationToken).ConfigureAwait(false);
        return message is T expected ? expected : throw new UnexpectedMessageException(typeof(T), message);
    }

    /// <summary>Blocks until the next message arrives, as the original's <c>receive_blocking()</c>.</summary>
    /// <param name="timeout">How long to wait; null waits as long as the connection is open.</param>
    /// <exception cref="TimeoutException">No message arrived within <paramref name="timeout"/>.</exception>
    /// <exception cref="ConnectionClosedException">The connection closed before a message arrived.</exception>
    public IMessage ReceiveBlocking(TimeSpan? timeout = null)
    {
        LoggedInTransport();
        if (_inbox.TryDequeue(out IMessage? message))
        {
            return message!;
        }

        if (FlushBatch.Current == _batch)
        {
            throw new InvalidOperationException(
                "ReceiveBlocking was called on the client's receive loop (in code continuing from ReceiveAsync), where it would wait forever; use ReceiveAsync there.");
        }

        using var cancel = new CancellationTokenSource();
        if (timeout is { } limit)
        {
            cancel.CancelAfter(limit);
        }

        try
        {
            return _inbox.DequeueAsync(cancel.Token).AsTask().GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            throw new TimeoutException($"No message arrived from the server within {timeout!.Value.TotalSeconds:0.###} s.");
        }
    }

    /// <summary>Blocks until the next message arrives, which must be a <typeparamref name="T"/>.</summary>
    /// <param name="timeout">How long to wait; null waits as long as the connection is open.</param>
    /// <exception cref="UnexpectedMessageException">The next message is of another type (it is consumed).</exception>
    /// <exception cref="TimeoutException">No message arrived within <paramref name="timeout"/>.</exception>
    /// <exception cref="ConnectionClosedException">The connection closed before a message arrived.</exception>
    public T ReceiveBlocking<T>(TimeSpan? timeout = null)
        where T : IMessage
    {
        IMessage message = ReceiveBlocking(timeout);
        return message is T expected ? expected : throw new UnexpectedMessageException(typeof(T), message);
    }

    /// <summary>Takes the next message if one has arrived, without waiting.</summary>
    public bool TryReceive([NotNullWhen(true)] out IMessage? message) => _inbox.TryDequeue(out message);

    /// <summary>
    /// Every message from the server, in order, as they arrive. Ends when this client is stopped; throws
    /// <see cref="ConnectionClosedException"/> if the server closes the connection or it is lost.
    /// </summary>
    public async IAsyncEnumerable<IMessage> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        LoggedInTransport();
        while (true)
        {
            IMessage message;
            try
            {
                message = await ReceiveAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ConnectionClosedException) when (_stoppedLocally)
            {
                yield break;
            }

            yield return message;
        }
    }

    /// <summary>
    /// Closes the connection, after the messages already sent have gone out, and waits for it to close: until the
    /// server has closed its side too (at most 2 seconds), so that a new client may log in as the same user at once.
    /// Called from code continuing from <see cref="ReceiveAsync(CancellationToken)"/> on the client's receive loop, it
    /// cannot wait for that loop: it closes, and the loop finishes closing when that code returns.
    /// </summary>
    public void Stop()
    {
        if (FlushBatch.Current == _batch)
        {
            _ = DisposeAsync().AsTask();
            return;
        }

        DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <inheritdoc/>
    public void Dispose() => Stop();

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        lock (_lifecycleLock)
        {
            if (_phase == (int)Phase.New)
            {
                _phase = (int)Phase.Closed;
                return;
            }
        }

        _stoppedLocally = true;
        if (_transport is { } transport)
        {
            // The server lets go of the user before it closes its side, so waiting for that makes a new login safe.
            transport.Close("the client was stopped", new Closing("the client was stopped"));
            try
            {
                await _receiveLoop.WaitAsync(PeerCloseTimeout).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                transport.Abort($"the server did not close the connection within {PeerCloseTimeout.TotalSeconds:0.#} s");
            }
        }

        await _receiveLoop.ConfigureAwait(false);
    }

    ValueTask IMessageBatchHandler.HandleBatchAsync(MessageConnection transport, List<IMessage> messages)
    {
        try
        {
            foreach (IMessage message in messages)
            {
                if (transport.IsClosing)
                {
                    break;
                }

                switch ((Phase)Volatile.Read(ref _phase))
                {
                    case Phase.LoggedIn when message is IncomingRequest:
                        BreakProtocol(transport, $"the server sent a {message.Descriptor.Name} request, but only clients send requests");
                        break;
                    case Phase.LoggedIn when !message.Descriptor.IsProtocolMessage && message.Descriptor.Direction == MessageDirection.ClientToServer:
                        BreakProtocol(transport, $"the server sent {message.Descriptor.Name}, which only clients send");
                        break;
                    case Phase.LoggedIn when !message.Descriptor.IsProtocolMessage:
                        _arrived.Add(message);
                        break;
                    case Phase.LoggedIn:
                        HandleProtocolMessage(transport, message);
                        break;
                    case Phase.AwaitingWelcome:
                        HandleWelcome(transport, message);
                        break;
                    case Phase.AwaitingLoginResult:
                        HandleLoginResult(transport, message);
                        break;
                }
            }

            if (_arrived.Count > 0)
            {
                // The receiver's continuation runs here, inside the batch: its replies go out together below.
                using (_batch.Enter())
                {
                    _inbox.EnqueueRange(_arrived);
                }
            }
        }
        finally
        {
            _arrived.Clear();
            _batch.FlushAll();
        }

        return ValueTask.CompletedTask;
    }

    private async Task OpenAsync(CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? stream = null;
        try
        {
            await socket.ConnectAsync(Host, Port, cancellationToken).ConfigureAwait(false);
            stream = new NetworkStream(socket, ownsSocket: true);
            if (_options.UseTls)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                await ssl.AuthenticateAsClientAsync(
                    new SslClientAuthenticationOptions
                    {
                        TargetHost = _options.TlsTargetHost ?? Host,
                        RemoteCertificateValidationCallback = _options.ServerCertificateValidation,
                    },
                    cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            if (stream is not null)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }

            socket.Dispose();
            throw;
        }

        MessageRegistry wire = MessageRegistry.Combine(WevisRegistry.Messages, _messages);
        var transport = new MessageConnection(stream, socket, wire, new ConnectionLimits(_options.MaxFrameSize, _options.MaxQueuedBytes));
        _transport = transport;
        transport.Start();
        _receiveLoop = ReceiveLoopAsync(transport);
        if (_options.ServerTimeout != Timeout.InfiniteTimeSpan)
        {
            TimeSpan period = _options.ServerTimeout / 4;
            _watchdog = new Timer(static state => ((Client)state!).CheckServerSilence(), this, period, period);
        }
    }

    private async Task ReceiveLoopAsync(MessageConnection transport)
    {
        ReceiveOutcome outcome = await transport.ReceiveAsync(this).ConfigureAwait(false);
        if (outcome.IsProtocolViolation)
        {
            ClientLog.ProtocolViolation(_logger, Host, Port, outcome.Reason);
            transport.Close(outcome.Reason, new Closing(outcome.Reason));
        }
        else
        {
            transport.Close(outcome.Reason);
        }

        string reason = transport.CloseReason ?? outcome.Reason;
        ClientLog.Closed(_logger, Host, Port, reason);
        _requests.CloseAll(_stoppedLocally ? "the client was stopped" : reason);
        Volatile.Write(ref _phase, (int)Phase.Closed);
        _loggedIn.TrySetException(_loginFailure ?? new ConnectionFailedException($"The connection to {Host}:{Port} closed before the login finished: {reason}"));
        if (_stoppedLocally)
        {
            _inbox.Complete(new ConnectionClosedException("the client was stopped"));
        }
        else
        {
            _inbox.Complete(new ConnectionClosedException(reason));
        }

        if (_watchdog is not null)
        {
            await _watchdog.DisposeAsync().ConfigureAwait(false);
        }

        await transport.CloseAndDisposeAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
    }

    private void HandleWelcome(MessageConnection transport, IMessage message)
    {
        switch (message)
        {
            case Welcome { Protocol: not WireProtocol.Version } welcome:
                _loginFailure = new ConnectionFailedException(
                    $"The server speaks Wevis protocol version {welcome.Protocol}; this client speaks version {WireProtocol.Version}.");
                transport.Close(_loginFailure.Message, new Closing(_loginFailure.Message));
                break;
            case Welcome welcome:
                Volatile.Write(ref _phase, (int)Phase.AwaitingLoginResult);
                transport.TrySend(new Login(Username, Credentials.Encrypt(_password, welcome.Salt), Version, _messages.Fingerprint));
                break;
            case Closing closing:
                FailBeforeLogin(transport, closing);
                break;
            default:
                BreakProtocol(transport, $"the server sent {message.Descriptor.Name} instead of its welcome");
                break;
        }
    }

    private void HandleLoginResult(MessageConnection transport, IMessage message)
    {
        switch (message)
        {
            case LoginAccepted:
                Volatile.Write(ref _phase, (int)Phase.LoggedIn);
                _loggedIn.TrySetResult();
                break;
            case LoginRejected rejected:
                ClientLog.LoginRejected(_logger, Host, Port, Username, rejected.Reason);
                _loginFailure = new LoginRejectedException(rejected.Reason);
                transport.Close("the login was rejected: " + rejected.Reason);
                break;
            case Closing closing:
                FailBeforeLogin(transport, closing);
                break;
            default:
                BreakProtocol(transport, $"the server sent {message.Descriptor.Name} instead of the login's result");
                break;
        }
    }

    /// <summary>The server said why it is closing before the login finished: that is why connecting failed.</summary>
    private void FailBeforeLogin(MessageConnection transport, Closing closing)
    {
        _loginFailure = new ConnectionFailedException("The server closed the connection: " + closing.Reason);
        transport.Close("the server closed the connection: " + closing.Reason);
    }

    private void HandleProtocolMessage(MessageConnection transport, IMessage message)
    {
        switch (message)
        {
            case ReplyEnvelope { Message.Descriptor.Direction: MessageDirection.ClientToServer } reply:
                BreakProtocol(transport, $"the server answered a request with {reply.Message.Descriptor.Name}, which only clients send");
                break;
            case ReplyEnvelope reply:
                Answer(reply.RequestId, reply.Message.Descriptor.Name, pending => pending.TryComplete(reply.Message));
                break;
            case Failed failed:
                Answer(failed.Request, "_Failed: " + failed.Reason, pending => pending.TryFail(new RequestFailedException(pending.Message.Descriptor.Name, failed.Reason)));
                break;
            case Ping:
                transport.TrySend(new Pong());
                break;
            case Pong:
                break;
            case Closing closing:
                transport.Close("the server closed the connection: " + closing.Reason);
                break;
            default:
                BreakProtocol(transport, $"the server sent {message.Descriptor.Name} after the login");
                break;
        }
    }

    /// <summary>
    /// Ends the request an answer names, on the receive loop inside its batch (what the caller sends next goes out
    /// with the loop's other sends); an answer no request is waiting for came too late, and is dropped with a log line.
    /// </summary>
    private void Answer(int requestId, string answer, Action<PendingRequest> end)
    {
        if (_requests.Take(requestId) is not { } pending)
        {
            ClientLog.LateAnswer(_logger, answer, requestId, Host, Port);
            return;
        }

        using (_batch.Enter())
        {
            end(pending);
        }
    }

    private void BreakProtocol(MessageConnection transport, string reason)
    {
        ClientLog.ProtocolViolation(_logger, Host, Port, reason);
        _loginFailure ??= new ConnectionFailedException("The server broke the Wevis protocol: " + reason);
        transport.Close(reason, new Closing(reason));
    }

    private void CheckServerSilence()
    {
        if (_transport is { IsClosing: false } transport
            && Environment.TickCount64 - transport.LastReceivedTicks > (long)_options.ServerTimeout.TotalMilliseconds)
        {
            transport.Abort($"nothing arrived from the server for {_options.ServerTimeout.TotalSeconds:0.###} s");
        }
    }

    private void Fail(string reason) => _transport?.Abort(reason);

    private MessageConnection LoggedInTransport()
    {
        MessageConnection? transport = _transport;
        if (transport is null || (Volatile.Read(ref _phase) < (int)Phase.LoggedIn && !_loggedIn.Task.IsCompleted))
        {
            throw new InvalidOperationException("The client has not logged in; call ConnectAsync or StartBlocking first.");
        }

        return transport;
    }
}
