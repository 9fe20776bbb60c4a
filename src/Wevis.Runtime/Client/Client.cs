using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Wevis.Protocol;
using Wevis.Serialization;
using Wevis.Sessions;
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
/// there go out together when the loop's current batch of messages is done. Do not block in such code. Sends on
/// other clients from there are not held back.</para>
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
public sealed partial class Client : IClientReceiver, IAsyncDisposable, IDisposable
{
    /// <summary>How long stopping waits for the server to close its side of the connection.</summary>
    private static readonly TimeSpan PeerCloseTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The client whose receive loop or reconnecting task is running user code on this thread, outside a batch of
    /// messages: an event handler, or code continuing from a receive or request that the session's end failed (those
    /// continuations run inline). Stopping from there must not wait for the task it is running on. Thread-static,
    /// not async-local: an awaiting caller's continuation runs with the caller's execution context, not the loop's.
    /// </summary>
    [ThreadStatic]
    private static Client? t_runningOwnTask;

    private readonly string _password;
    private readonly ClientOptions _options;
    private readonly ILogger _logger;
    private readonly MessageInbox _inbox = new();
    private readonly PendingRequests _requests = new();
    private readonly List<IMessage> _arrived = [];
    private readonly Dictionary<int, TaskCompletionSource<ClientRoom>> _roomRequests = [];
    private readonly Lock _lifecycleLock = new();
    private readonly DnsEndPoint[] _endpoints;
    private int _endpoint;
    private MessageRegistry _messages = MessageRegistry.Empty;
    private CurrentConnection? _current; // the connection and its session, made current together under _lifecycleLock; read without it
    private Task _receiveLoop = Task.CompletedTask;
    private ClientRoom? _room;
    private int _nextRequest;
    private readonly CancellationTokenSource _stopping = new();
    private ClientResumeState? _resume;
    private Task _reconnectLoop = Task.CompletedTask; // set and read under _lifecycleLock
    private bool _started;
    private bool _disposed; // under _lifecycleLock: a connect that finishes after it closes what it opened
    private bool _stoppedLocally; // set under _lifecycleLock; read under it, or with Volatile.Read

    /// <summary>Creates a client; nothing happens on the network until <see cref="ConnectAsync"/> or <see cref="StartBlocking"/>.</summary>
    /// <param name="username">The name to log in as.</param>
    /// <param name="password">The password; only its salted hash (<see cref="Credentials.Encrypt"/>) is sent.</param>
    /// <param name="version">This program's version, passed to the server's validator.</param>
    /// <param name="host">The server's host name or address.</param>
    /// <param name="port">The server's port.</param>
    /// <param name="options">Further settings.</param>
    public Client(string username, string password, string version, string host = "localhost", int port = ServerOptions.DefaultPort, ClientOptions? options = null)
        : this(username, password, version, OneEndpoint(host, port), options)
    {
    }

    /// <summary>
    /// Creates a client that may connect to any of several servers (the gateways of a cluster, say): connecting tries
    /// them in order until one answers, and reconnecting (<see cref="ClientOptions.ResumeSessions"/>) moves on to the
    /// next when one cannot be reached. Nothing happens on the network until <see cref="ConnectAsync"/> or <see cref="StartBlocking"/>.
    /// </summary>
    /// <param name="username">The name to log in as.</param>
    /// <param name="password">The password; only its salted hash (<see cref="Credentials.Encrypt"/>) is sent.</param>
    /// <param name="version">This program's version, passed to the server's validator.</param>
    /// <param name="endpoints">The servers' hosts and ports, in the order to try them; at least one.</param>
    /// <param name="options">Further settings.</param>
    public Client(string username, string password, string version, IReadOnlyList<DnsEndPoint> endpoints, ClientOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(username);
        ArgumentNullException.ThrowIfNull(password);
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(endpoints);
        if (endpoints.Count == 0)
        {
            throw new ArgumentException("At least one endpoint is needed.", nameof(endpoints));
        }

        foreach (DnsEndPoint endpoint in endpoints)
        {
            ArgumentNullException.ThrowIfNull(endpoint, nameof(endpoints));
            if (endpoint.Port is <= 0 or > 65535)
            {
                throw new ArgumentOutOfRangeException(nameof(endpoints), $"The port of {endpoint.Host}:{endpoint.Port} must be between 1 and 65535.");
            }
        }

        Username = username;
        _password = password;
        Version = version;
        _endpoints = [.. endpoints];
        _options = options ?? new ClientOptions();
        _logger = _options.LoggerFactory?.CreateLogger("Wevis.Client") ?? NullLogger.Instance;
    }

    /// <summary>The name this client logs in as.</summary>
    public string Username { get; }

    /// <summary>This program's version, as sent to the server.</summary>
    public string Version { get; }

    /// <summary>The server's host: the one connected to (or being tried), among <see cref="Endpoints"/>.</summary>
    public string Host => Endpoint.Host;

    /// <summary>The server's port: the one connected to (or being tried), among <see cref="Endpoints"/>.</summary>
    public int Port => Endpoint.Port;

    /// <summary>The servers this client may connect to, in the order it tries them: one, unless it was made with several.</summary>
    public IReadOnlyList<DnsEndPoint> Endpoints => _endpoints;

    private DnsEndPoint Endpoint => _endpoints[Volatile.Read(ref _endpoint)];

    /// <summary>Whether the client is logged in and the connection is open.</summary>
    public bool IsConnected
    {
        get
        {
            // One snapshot: a resume makes a new connection and its session current together.
            CurrentConnection? current = Volatile.Read(ref _current);
            return current is { Session.IsLoggedIn: true, Transport.IsClosing: false };
        }
    }

    /// <summary>Why the connection closed, once it has.</summary>
    public string? CloseReason => Volatile.Read(ref _current)?.Transport.CloseReason;

    /// <summary>The message types this client speaks (without the protocol's own).</summary>
    public MessageRegistry Messages => _messages;

    /// <summary>
    /// The room the user is in, as the server last said: the entry room (<c>lobby</c>) soon after logging in, then
    /// whatever room requests or the server's moves made it. Null until the server has said.
    /// </summary>
    public ClientRoom? Room => Volatile.Read(ref _room);

    /// <summary>
    /// Raised when the server says the user is in another room: after the login (the entry room), after a room
    /// request, and when the server moves the user (a room closed, say). Raised on the client's receive loop,
    /// before the messages that follow the change are received: do not block in it. An exception thrown by a
    /// handler of this or the client's other events is logged and does not reach the client.
    /// </summary>
    public event EventHandler<RoomChangedEventArgs>? RoomChanged;

    /// <summary>
    /// With <see cref="ClientOptions.ResumeSessions"/>: the connection was lost and the client is reconnecting to resume
    /// the session. Sends are kept and receives wait meanwhile. Raised on the client's receive loop: do not block in it.
    /// </summary>
    public event EventHandler<SessionResumeEventArgs>? Dropped;

    /// <summary>
    /// With <see cref="ClientOptions.ResumeSessions"/>: the session resumed on a new connection; what either side had not
    /// handled is being delivered, in order. Raised on the reconnecting task, after the resume.
    /// </summary>
    public event EventHandler<SessionResumeEventArgs>? Resumed;

    /// <summary>
    /// With <see cref="ClientOptions.ResumeSessions"/>: resuming failed (the server refused, saying why, or
    /// <see cref="ClientOptions.ReconnectTimeout"/> passed); the session is over, as after a closed connection.
    /// </summary>
    public event EventHandler<SessionResumeEventArgs>? GaveUp;

    /// <summary>The resumable session's token (tests only; never logged); null without one.</summary>
    internal string? ResumeToken => _resume is { IsResumable: true } resume ? resume.Token : null;

    /// <summary>Why this client's sent messages can no longer be replayed, once they cannot (tests only).</summary>
    internal string? ReplayBrokenReason => _resume?.Outgoing.BrokenReason;

    /// <summary>How many of this client's sequenced messages the server has acknowledged (tests only).</summary>
    internal long AcknowledgedByServer => _resume?.Outgoing.Acknowledged ?? 0;

    /// <summary>
    /// The lock under which the client's lifecycle is decided: connecting, stopping, and each reconnect attempt's
    /// acceptance or abandonment (tests hold it, to make one side of a decision wait for the other).
    /// </summary>
    internal Lock LifecycleLock => _lifecycleLock;

    /// <summary>
    /// With <see cref="ClientOptions.ResumeSessions"/>: how many times the session has been resumed; counted when the
    /// server accepts a resume, before the messages it replays are received (<see cref="Resumed"/> is raised after).
    /// </summary>
    public int ResumeCount { get; private set; }

    /// <summary>Connects, logs in, and returns once logged in.</summary>
    /// <remarks>
    /// Whenever it throws, the client is not connected and will not be: what it opened is closed before the exception
    /// reaches the caller, and a login the server accepted at the last moment (as the token was cancelled or the
    /// <see cref="ClientOptions.ConnectTimeout"/> passed) is closed with the server told, so the user leaves at once;
    /// it is not resumed, even with <see cref="ClientOptions.ResumeSessions"/>. With it, the server is told even when
    /// its answer has not arrived yet (it may be on its way), and, as when stopping, the client waits for the server
    /// to close its side, at most 2 seconds, before it throws. A cancellation that comes after the
    /// login was seen to succeed changes nothing: the call returns normally and the client stays connected. Either way,
    /// make a new client to connect again.
    /// </remarks>
    /// <param name="cancellationToken">Cancels connecting and logging in.</param>
    /// <exception cref="LoginRejectedException">The server refused the login; the exception carries its reason.</exception>
    /// <exception cref="ConnectionFailedException">The server could not be reached, TLS failed, or the login did not finish in time.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before the login was seen to succeed.</exception>
    /// <exception cref="InvalidOperationException">This client has connected before; make a new one to connect again.</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed (before or while connecting); nothing it opened stays open.</exception>
    public async Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        lock (_lifecycleLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_started)
            {
                throw new InvalidOperationException("This client has already connected; create a new one to connect again.");
            }

            _started = true;
        }

        _options.Validate();
        _messages = _options.Messages ?? MessageRegistry.Default;
        if (_options.ResumeSessions)
        {
            _resume = new ClientResumeState(_options.MaxUnacknowledgedBytes);
        }

        for (int index = 0; ; index++)
        {
            Volatile.Write(ref _endpoint, index);
            if (await TryConnectAsync(index + 1 < _endpoints.Length, cancellationToken).ConfigureAwait(false))
            {
                break;
            }
        }

        ClientLog.LoggedIn(_logger, Host, Port, Username);
    }

    /// <summary>
    /// Connects and logs in to the current endpoint. Returns false when the endpoint could not be reached (no
    /// connection, or TLS failed) and <paramref name="mayTryNext"/>: the caller then tries the next one. A failure
    /// after the connection opened (a refused or slow login) is the session's, and is thrown.
    /// </summary>
    private async Task<bool> TryConnectAsync(bool mayTryNext, CancellationToken cancellationToken)
    {
        ClientLog.Connecting(_logger, Host, Port, Username);
        using var timeout = new CancellationTokenSource(_options.ConnectTimeout, _options.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token, _stopping.Token);
        bool opened = false;
        try
        {
            (MessageConnection transport, ClientSession session) = await OpenAsync(linked.Token).ConfigureAwait(false);
            opened = true;
            // The loop starts once the connection is published (or found unwanted): what it handles may use it.
            var published = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Task loop = ReceiveLoopAsync(transport, session, reconnecting: false, published.Task);
            bool disposed;
            lock (_lifecycleLock)
            {
                // Disposing publishes its decision under this lock too: either it sees this connection and closes
                // it, or this sees the decision and closes the connection itself. Nothing is left open either way.
                disposed = _disposed;
                if (!disposed)
                {
                    Volatile.Write(ref _current, new CurrentConnection(transport, session));
                    _receiveLoop = loop;
                }
            }

            published.SetResult();
            if (disposed)
            {
                await CloseAndWaitAsync(transport, loop).ConfigureAwait(false);
                throw new ObjectDisposedException(nameof(Client), "The client was disposed while it connected.");
            }

            await session.LoggedIn.WaitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (Volatile.Read(ref _disposed))
        {
            // Disposing closed the connection (or cancelled opening it): that, not what it did to the connect, is why.
            throw ex as ObjectDisposedException ?? new ObjectDisposedException("The client was disposed while it connected.", ex);
        }
        catch (Exception ex) when (!opened && mayTryNext && !cancellationToken.IsCancellationRequested)
        {
            DnsEndPoint next = _endpoints[Volatile.Read(ref _endpoint) + 1];
            ClientLog.EndpointUnreachable(_logger, Host, Port, next.Host, next.Port, timeout.IsCancellationRequested ? "timed out" : ex.Message);
            return false;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            var failure = new ConnectionFailedException(
                $"Could not connect and log in to {Host}:{Port} within {_options.ConnectTimeout.TotalSeconds:0.###} s.");
            await AbandonConnectAsync(failure.Message).ConfigureAwait(false);
            throw failure;
        }
        catch (OperationCanceledException)
        {
            await AbandonConnectAsync("connecting was cancelled").ConfigureAwait(false);
            throw;
        }
        catch (Exception ex) when (ex is not WevisException)
        {
            string reason = ex is System.Security.Authentication.AuthenticationException
                ? $"TLS with {Host}:{Port} failed: {ex.Message}{(ex.InnerException is null ? string.Empty : " " + ex.InnerException.Message)}"
                : $"Could not connect to {Host}:{Port}: {ex.Message}";
            await AbandonConnectAsync(reason).ConfigureAwait(false);
            throw new ConnectionFailedException(reason, ex);
        }
        catch (WevisException ex)
        {
            await AbandonConnectAsync(ex.Message).ConfigureAwait(false);
            throw;
        }

        return true;
    }

    /// <summary>
    /// <see cref="ConnectAsync"/> is about to throw: the client ends here, as if stopped, and what it opened is closed
    /// before the caller hears of it. A login the server accepted just as connecting was cancelled or timed out would
    /// otherwise outlive the exception: cutting its connection looks like a lost one, which a client with
    /// <see cref="ClientOptions.ResumeSessions"/> reconnects and resumes, and which the server holds for it meanwhile.
    /// </summary>
    private async Task AbandonConnectAsync(string reason)
    {
        CurrentConnection? current;
        Task receiveLoop;
        lock (_lifecycleLock)
        {
            // Before the connection closes: its receive loop then ends the session instead of resuming it.
            _stoppedLocally = true;
            current = _current;
            receiveLoop = _receiveLoop;
        }

        MessageConnection? transport = current?.Transport;
        ClientSession? session = current?.Session;

        // A resume started just before (the connection dropped right after the login) stops at once.
        _stopping.Cancel();
        if (transport is not null)
        {
            if (session is { HasLoggedIn: true } || _resume is not null)
            {
                // The server holds a session for this login: the farewell ends it there now, as stopping does. A
                // resumable login gets it even before the client has heard of an acceptance: the server may have
                // accepted it already (the answer still on its way), and would take a cut for a lost connection,
                // holding the session for the grace period; it reads the farewell after the login, whatever its answer.
                await CloseAndWaitAsync(transport, receiveLoop, reason).ConfigureAwait(false);
            }
            else
            {
                transport.Abort(reason);
                await receiveLoop.ConfigureAwait(false);
            }
        }

        Task reconnectLoop;
        lock (_lifecycleLock)
        {
            reconnectLoop = _reconnectLoop;
        }

        await reconnectLoop.ConfigureAwait(false);
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

            pending.Start(_requests, _options.TimeProvider, cancellationToken);
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
        if (Volatile.Read(ref _current)?.Session is { } session && FlushBatch.Current is { } batch && ReferenceEquals(batch, session.Batch))
        {
            throw new InvalidOperationException(
                "RequestBlocking was called on the client's receive loop (in code continuing from an await of this client), where it would wait forever; use RequestAsync there.");
        }

        ValueTask<TReply> reply = RequestAsync(request, timeout ?? _options.RequestTimeout);
        return reply.IsCompletedSuccessfully ? reply.Result : reply.AsTask().GetAwaiter().GetResult();
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

    /// <summary>Waits for the next message from the server.</summary>
    /// <exception cref="ConnectionClosedException">The connection closed before a message arrived.</exception>
    /// <exception cref="InvalidOperationException">Another receive is already waiting: receive one message at a time.</exception>
    public ValueTask<IMessage> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        LoggedInTransport();
        return _inbox.DequeueAsync(cancellationToken);
    }

    /// <summary>Waits for the next message, which must be a <typeparamref name="T"/>.</summary>
    /// <remarks>
    /// A message of another type is taken off the queue and thrown back in <see cref="UnexpectedMessageException.Received"/>.
    /// To wait for a <typeparamref name="T"/> and keep the messages that arrive before it, use <see cref="WaitForAsync{T}"/>.
    /// </remarks>
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
    /// <exception cref="InvalidOperationException">Called on this client's own receive loop (in code continuing from <see cref="ReceiveAsync(CancellationToken)"/>), where it would wait forever.</exception>
    public IMessage ReceiveBlocking(TimeSpan? timeout = null) => TakeBlocking(null, null, timeout);

    /// <summary>Blocks until the next message arrives, which must be a <typeparamref name="T"/>, as the original's <c>receive_blocking(name)</c>.</summary>
    /// <param name="timeout">How long to wait; null waits as long as the connection is open.</param>
    /// <remarks>
    /// A message of another type is taken off the queue and thrown back in <see cref="UnexpectedMessageException.Received"/>,
    /// as the original does. To wait for a <typeparamref name="T"/> and keep the messages that arrive before it, in
    /// order, for later receives, use <see cref="WaitForBlocking{T}"/>.
    /// </remarks>
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
            catch (ConnectionClosedException) when (Volatile.Read(ref _stoppedLocally))
            {
                yield break;
            }

            yield return message;
        }
    }

    /// <summary>
    /// Asks the server to move the user into the room <paramref name="roomId"/>; completes when they are in it. The
    /// room's enter hook has run by then, so what it sent is already in the inbox, ahead of what follows.
    /// </summary>
    /// <exception cref="JoinRefusedException">The server refused: no such room, full, locked, closed, or the room turned the user away.</exception>
    /// <exception cref="ConnectionClosedException">The connection closed first.</exception>
    public Task<ClientRoom> JoinRoomAsync(string roomId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(roomId);
        return RequestRoomAsync(request => new JoinRoom(request, roomId), cancellationToken);
    }

    /// <summary>Asks the server for a place in a room of <paramref name="type"/> that has one, or in a new one; completes when the user is in it.</summary>
    /// <exception cref="JoinRefusedException">The server refused: no such type, or clients may not join or create its rooms.</exception>
    /// <exception cref="ConnectionClosedException">The connection closed first.</exception>
    public Task<ClientRoom> JoinOrCreateRoomAsync(string type, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(type);
        return RequestRoomAsync(request => new JoinOrCreateRoom(request, type), cancellationToken);
    }

    /// <summary>Asks the server for a new room of <paramref name="type"/>, and moves the user into it.</summary>
    /// <exception cref="JoinRefusedException">The server refused: no such type, clients may not create its rooms, or there are too many rooms.</exception>
    /// <exception cref="ConnectionClosedException">The connection closed first.</exception>
    public Task<ClientRoom> CreateRoomAsync(string type, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(type);
        return RequestRoomAsync(request => new CreateRoom(request, type), cancellationToken);
    }

    /// <summary>Asks the server to move the user back to the entry room.</summary>
    /// <exception cref="JoinRefusedException">The user is in the entry room already.</exception>
    /// <exception cref="ConnectionClosedException">The connection closed first.</exception>
    public Task<ClientRoom> LeaveRoomAsync(CancellationToken cancellationToken = default) =>
        RequestRoomAsync(request => new LeaveRoom(request), cancellationToken);

    /// <summary>
    /// Closes the connection, after the messages already sent have gone out, and waits for it to close: until the
    /// server has closed its side too (at most 2 seconds), so that a new client may log in as the same user at once.
    /// With <see cref="ClientOptions.ResumeSessions"/>, stopping while the client reconnects does the same with the
    /// reconnect attempt's connection once its login is sent (the server may accept the resume): the server ends the
    /// session instead of holding it for its grace period. Called on the client's own receive loop or reconnecting task (from code continuing from
    /// <see cref="ReceiveAsync(CancellationToken)"/> or a request, whether it got a message or
    /// <see cref="ConnectionClosedException"/>, or from a handler of <see cref="RoomChanged"/>, <see cref="Dropped"/>,
    /// <see cref="Resumed"/> or <see cref="GaveUp"/>), it cannot wait for that task: it closes, and the task finishes
    /// closing when that code returns.
    /// </summary>
    public void Stop()
    {
        if (IsOnOwnTask())
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
            _disposed = true;
            _stoppedLocally = true;
            if (!_started)
            {
                _started = true;
                return;
            }
        }

        _stopping.Cancel();
        Task reconnectLoop;
        lock (_lifecycleLock)
        {
            // Read under the lock a receive loop decides to reconnect under: no reconnecting task starts after this.
            reconnectLoop = _reconnectLoop;
        }

        await reconnectLoop.ConfigureAwait(false);
        MessageConnection? transport;
        Task receiveLoop;
        lock (_lifecycleLock)
        {
            transport = _current?.Transport;
            receiveLoop = _receiveLoop;
        }

        if (transport is not null)
        {
            await CloseAndWaitAsync(transport, receiveLoop).ConfigureAwait(false);
        }

        await receiveLoop.ConfigureAwait(false);
    }

    /// <summary>
    /// Closes <paramref name="transport"/> as this client stops, and waits for its receive loop to end: until the
    /// server has closed its side, which it does after letting go of the user, so that a new login is safe at once.
    /// </summary>
    private async Task CloseAndWaitAsync(MessageConnection transport, Task receiveLoop, string reason = "the client was stopped")
    {
        transport.Close(reason, new Closing(reason));
        try
        {
            await receiveLoop.WaitAsync(PeerCloseTimeout, _options.TimeProvider).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            transport.Abort($"the server did not close the connection within {PeerCloseTimeout.TotalSeconds:0.#} s");
        }

        await receiveLoop.ConfigureAwait(false);
    }

    void IClientReceiver.Receive(List<IMessage> messages, int start, int end)
    {
        for (int i = start; i < end; i++)
        {
            IMessage message = messages[i];
            if (message.Descriptor.IsProtocolMessage)
            {
                HandleRoomNotice(message);
            }
            else if (message is IncomingRequest)
            {
                BreakProtocol($"the server sent a {message.Descriptor.Name} request, but only clients send requests");
            }
            else if (message.Descriptor.Direction == MessageDirection.ClientToServer)
            {
                BreakProtocol($"the server sent {message.Descriptor.Name}, which only clients send");
            }
            else
            {
                _arrived.Add(message);
            }
        }

        if (_arrived.Count > 0)
        {
            // The receiver's continuation runs here: the session has entered its batch, so replies go out together.
            _inbox.EnqueueRange(_arrived);
            _arrived.Clear();
        }
    }

    private void HandleRoomNotice(IMessage message)
    {
        switch (message)
        {
            case RoomChanged changed:
                var room = new ClientRoom(changed.Room, changed.Type);
                Volatile.Write(ref _room, room);
                Raise(RoomChanged, new RoomChangedEventArgs(room, changed.Reason));
                TakeRoomRequest(changed.Request)?.TrySetResult(room);
                break;
            case JoinRefused refused:
                TakeRoomRequest(refused.Request)?.TrySetException(new JoinRefusedException(refused.Reason));
                break;
            case ReplyEnvelope { Message.Descriptor.Direction: MessageDirection.ClientToServer } reply:
                BreakProtocol($"the server answered a request with {reply.Message.Descriptor.Name}, which only clients send");
                break;
            case ReplyEnvelope reply:
                Answer(reply.RequestId, reply.Message.Descriptor.Name, pending => pending.TryComplete(reply.Message));
                break;
            case Failed failed:
                Answer(failed.Request, "_Failed: " + failed.Reason, pending => pending.TryFail(new RequestFailedException(pending.Message.Descriptor.Name, failed.Reason)));
                break;
            default:
                BreakProtocol($"the server sent {message.Descriptor.Name} after the login");
                break;
        }
    }

    /// <summary>
    /// Ends the request an answer names (on the receive loop, inside its batch, so that what the caller sends next
    /// goes out with the loop's other sends); an answer no request is waiting for came too late, and is dropped with
    /// a log line.
    /// </summary>
    private void Answer(int requestId, string answer, Action<PendingRequest> end)
    {
        if (_requests.Take(requestId) is not { } pending)
        {
            ClientLog.LateAnswer(_logger, answer, requestId, Host, Port);
            return;
        }

        end(pending);
    }

    private void BreakProtocol(string reason)
    {
        ClientLog.ProtocolViolation(_logger, Host, Port, reason);
        Volatile.Read(ref _current)?.Transport.Close(reason, new Closing(reason));
    }

    private async Task<ClientRoom> RequestRoomAsync(Func<int, IMessage> makeRequest, CancellationToken cancellationToken)
    {
        MessageConnection transport = LoggedInTransport();
        var answer = new TaskCompletionSource<ClientRoom>(TaskCreationOptions.RunContinuationsAsynchronously);
        int request;
        lock (_roomRequests)
        {
            request = ++_nextRequest;
            _roomRequests[request] = answer;
        }

        try
        {
            if (!transport.TrySend(makeRequest(request)))
            {
                throw new ConnectionClosedException(transport.CloseReason ?? "the connection was closed");
            }

            return await answer.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            TakeRoomRequest(request);
        }
    }

    private TaskCompletionSource<ClientRoom>? TakeRoomRequest(int request)
    {
        lock (_roomRequests)
        {
            return _roomRequests.Remove(request, out TaskCompletionSource<ClientRoom>? answer) ? answer : null;
        }
    }

    private async Task<(MessageConnection Transport, ClientSession Session)> OpenAsync(CancellationToken cancellationToken)
    {
        System.Net.Sockets.Socket? socket = null;
        Stream stream;
        if (_options.Connector is { } connect)
        {
            stream = await connect(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            (socket, stream) = await TcpConnector.ConnectAsync(Host, Port, cancellationToken).ConfigureAwait(false);
        }

        if (_options.UseTls && socket is not null)
        {
            try
            {
                stream = await ClientTls.AuthenticateAsync(stream, _options, Host, Port, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        MessageRegistry wire = MessageRegistry.Combine(WevisRegistry.Messages, _messages);
        var batch = new FlushBatch(this);
        var transport = new MessageConnection(stream, socket, wire, new ConnectionLimits(_options.MaxFrameSize, _options.MaxQueuedBytes), batch.Group, _options.TimeProvider)
        {
            ReceiveThreadName = _options.DedicatedReceiveThread ? $"Wevis client receive {Host}:{Port}" : null,
        };
        var session = new ClientSession(
            transport,
            new LoginRequest(Username, _password, Version, _messages.Fingerprint),
            this,
            batch,
            _options.TimeProvider,
            _options.ServerTimeout,
            _logger,
            Host,
            Port,
            _resume)
        {
            MaxUnacknowledgedAge = _options.MaxUnacknowledgedAge,
        };
        session.Start();
        return (transport, session);
    }

    /// <summary>
    /// Runs a connection's receive loop, then ends or drops the session. A drop starts the next reconnecting task
    /// only once the one before it has finished (for a reconnect attempt's connection, the task that made the
    /// attempt): so a connection that breaks right after its handshake does not announce its drop before the resume
    /// that opened it, and at most one reconnecting task runs at a time, the one disposing waits for.
    /// </summary>
    private async Task ReceiveLoopAsync(MessageConnection transport, ClientSession session, bool reconnecting, Task? published = null)
    {
        if (published is not null)
        {
            await published.ConfigureAwait(false);
        }

        string reason = await session.RunAsync().ConfigureAwait(false);
        if (reconnecting && !session.HasLoggedIn)
        {
            // A reconnect attempt that did not get through: the reconnecting task decides what next.
            await transport.CloseAndDisposeAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            return;
        }

        ClientLog.Closed(_logger, Host, Port, reason);
        bool reconnect;
        lock (_lifecycleLock)
        {
            reconnect = _resume is { IsResumable: true } && !_stoppedLocally && session.HasLoggedIn && !session.EndedByServer;
        }

        if (reconnect)
        {
            // Lost, not closed: the session is kept on both sides; sends wait in the replay log, receives wait.
            ClientLog.Dropped(_logger, Host, Port, reason);
            Task previous;
            lock (_lifecycleLock)
            {
                previous = _reconnectLoop;
            }

            // The reconnecting task before this one (the one that resumed the session on this connection, if one did)
            // finishes first: its Resumed comes before this drop's Dropped, and it never outlives the task published
            // below, which is the only one disposing waits for. Waiting for its Resumed alone left its last steps
            // running after the next task started. Stopping ends the wait: no task is published after the stop (the
            // look below), and that task, stopping, may be waiting for this loop (for the server to close its side of
            // this connection, ReconnectAttempt.StopAsync); the two would otherwise wait for each other for ever.
            await previous.WaitAsync(_stopping.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            lock (_lifecycleLock)
            {
                // Decided again and published under the lock disposing sets _stoppedLocally and reads _reconnectLoop
                // under: either disposing sees the new task and waits for it, or this sees the stop and ends the
                // session. Published outside it, a drop overlapping a dispose could start a reconnecting task that
                // disposing never waits for.
                reconnect = !_stoppedLocally;
                if (reconnect)
                {
                    // Starts off this loop (it yields first): nothing of it runs under the lock.
                    _reconnectLoop = ReconnectAsync(reason);
                }
            }
        }

        if (reconnect)
        {
            Raise(Dropped, new SessionResumeEventArgs(reason, 0));
            await transport.CloseAndDisposeAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            return;
        }

        EndSession(reason);
        await transport.CloseAndDisposeAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
    }

    /// <summary>
    /// The session is over: waiting receives, requests and room requests end with why. Their callers' code runs
    /// here, inline, so it is marked as running on this client's own task.
    /// </summary>
    private void EndSession(string reason)
    {
        Client? outer = t_runningOwnTask;
        t_runningOwnTask = this;
        try
        {
            EndWaiters(reason);
        }
        finally
        {
            t_runningOwnTask = outer;
        }
    }

    private void EndWaiters(string reason)
    {
        _resume?.Outgoing.Close();
        var closed = new ConnectionClosedException(Volatile.Read(ref _stoppedLocally) ? "the client was stopped" : reason);
        _inbox.Complete(closed);
        _requests.CloseAll(closed.Reason);
        lock (_roomRequests)
        {
            foreach (TaskCompletionSource<ClientRoom> answer in _roomRequests.Values)
            {
                answer.TrySetException(closed);
            }

            _roomRequests.Clear();
        }
    }

    /// <summary>
    /// Raises one of the client's events, marked as running on this client's own task (see <see cref="t_runningOwnTask"/>).
    /// A handler's exception is logged and goes no further: thrown into the receive loop or the reconnecting task it
    /// would fault it (waiting receives and requests would never end), or pass for a network failure and reconnect.
    /// </summary>
    private void Raise<TArgs>(EventHandler<TArgs>? handler, TArgs args, [CallerArgumentExpression(nameof(handler))] string name = "")
    {
        if (handler is null)
        {
            return;
        }

        Client? outer = t_runningOwnTask;
        t_runningOwnTask = this;
        try
        {
            handler(this, args);
        }
        catch (Exception ex)
        {
            ClientLog.EventHandlerFailed(_logger, ex, name, Host, Port);
        }
        finally
        {
            t_runningOwnTask = outer;
        }
    }

    /// <summary>
    /// Whether this thread is running this client's receive loop or reconnecting task (user code in a batch of
    /// messages, in an event, or continuing from a receive the session's end failed), which stopping must not wait for.
    /// </summary>
    private bool IsOnOwnTask() =>
        ReferenceEquals(t_runningOwnTask, this)
        || (Volatile.Read(ref _current)?.Session is { } session && FlushBatch.Current is { } batch && ReferenceEquals(batch, session.Batch));

    private static DnsEndPoint[] OneEndpoint(string host, int port)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        return [new DnsEndPoint(host, port)];
    }

    private MessageConnection LoggedInTransport() => LoggedInConnection().Transport;

    /// <summary>
    /// The current connection and its session, as one snapshot: a resume makes a new connection and its session current
    /// together (and connecting publishes both), so read apart they could pair a new connection with the old session,
    /// or the reverse. Read as one object, set under the lifecycle lock, rather than read under that lock: every send
    /// and receive asks for it, and taking the lock there showed in paired pipelined runs as 10-15% more client CPU
    /// per reply in four pairs of five. (No test: the two reads were a few instructions apart, with nothing between
    /// them a test could hold.)
    /// </summary>
    /// <exception cref="InvalidOperationException">The client has not logged in.</exception>
    private CurrentConnection LoggedInConnection()
    {
        if (Volatile.Read(ref _current) is not { } current || (!current.Session.IsLoggedIn && !current.Session.LoggedIn.IsCompleted))
        {
            throw new InvalidOperationException("The client has not logged in; call ConnectAsync or StartBlocking first.");
        }

        return current;
    }

    /// <summary>A connection and its session, made current together.</summary>
    private sealed class CurrentConnection(MessageConnection transport, ClientSession session)
    {
        public MessageConnection Transport { get; } = transport;

        public ClientSession Session { get; } = session;
    }
}
