using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Wevis.Protocol;
using Wevis.Transport;

namespace Wevis;

/// <summary>
/// A Wevis server: accepts TCP connections, logs clients in with the validator, hands their messages to the room,
/// and keeps idle connections alive with pings. One instance serves many clients.
/// </summary>
/// <example>
/// <code>
/// var server = new Server(Validate, new TimeRoom(), new ServerOptions { Port = 12121 });
/// server.Launch(); // until Ctrl+C
/// </code>
/// </example>
public sealed class Server : IAsyncDisposable
{
    /// <summary>What a connection turned away by <see cref="ServerOptions.MaxPendingLogins"/> is told.</summary>
    private static readonly byte[] s_busyFrame = EncodeFrame(new Closing("the server is busy: too many connections are logging in; try again later"));

    private readonly AsyncLoginValidator _validator;
    private readonly ServerOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<long, Connection> _connections = new();
    private readonly ConcurrentDictionary<long, Task> _connectionTasks = new();
    private readonly Dictionary<string, int> _userConnections = new(StringComparer.Ordinal);
    private readonly Lock _userConnectionsLock = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lifecycleLock = new();
    private MessageRegistry _messages = MessageRegistry.Empty;
    private MessageRegistry _wireMessages = MessageRegistry.Empty;
    private ConnectionLimits _limits = new(0, 0);
    private LoginThrottle _throttle = new(0, TimeSpan.FromMinutes(1));
    private Socket? _listener;
    private Task _acceptLoop = Task.CompletedTask;
    private Task _keepAliveLoop = Task.CompletedTask;
    private Task? _stopTask;
    private long _nextConnectionId;
    private int _pendingLogins;
    private int _loggedIn;
    private bool _started;

    /// <summary>Creates a server whose validator checks logins synchronously.</summary>
    public Server(LoginValidator validator, Room room, ServerOptions? options = null)
        : this(Wrap(validator ?? throw new ArgumentNullException(nameof(validator))), room, options)
    {
    }

    /// <summary>Creates a server whose validator checks logins asynchronously (against a user store, say).</summary>
    public Server(AsyncLoginValidator validator, Room room, ServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(validator);
        ArgumentNullException.ThrowIfNull(room);
        _validator = validator;
        Room = room;
        _options = options ?? new ServerOptions();
        _logger = _options.LoggerFactory?.CreateLogger("Wevis.Server") ?? NullLogger.Instance;
    }

    /// <summary>The room every logged-in user is in.</summary>
    public Room Room { get; }

    /// <summary>The address the server listens on, once started.</summary>
    public IPEndPoint? EndPoint { get; private set; }

    /// <summary>The port the server listens on, once started: the one asked for, or the one picked for port 0.</summary>
    public int Port => EndPoint?.Port ?? throw new InvalidOperationException("The server has not started.");

    /// <summary>The message types this server speaks (without the protocol's own).</summary>
    public MessageRegistry Messages => _messages;

    /// <summary>Open connections, logging in or logged in.</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>Whether the server has started and not yet stopped.</summary>
    public bool IsRunning => _started && !_completion.Task.IsCompleted;

    /// <summary>Completes when the server has stopped; faults with the error that stopped it, if one did.</summary>
    public Task Completion => _completion.Task;

    internal Room RoomInternal => Room;

    /// <summary>Starts listening and returns; the server runs in the background until <see cref="StopAsync"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="SocketException">The address cannot be listened on (the port is taken, say).</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        lock (_lifecycleLock)
        {
            if (_started)
            {
                throw new InvalidOperationException("The server has already been started.");
            }

            _started = true;
        }

        _options.Validate();
        _messages = _options.Messages ?? MessageRegistry.Default;
        _wireMessages = MessageRegistry.Combine(WevisRegistry.Messages, _messages);
        _limits = new ConnectionLimits(_options.MaxFrameSize, _options.MaxQueuedBytesPerConnection);
        _throttle = new LoginThrottle(_options.MaxFailedLoginsPerAddress, _options.FailedLoginWindow);
        Room.Attach(this, _options.LoggerFactory?.CreateLogger(Room.GetType().FullName ?? "Wevis.Room") ?? NullLogger.Instance);

        IPEndPoint endPoint = await ResolveAsync(_options.Host, _options.Port, cancellationToken).ConfigureAwait(false);
        var listener = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endPoint.AddressFamily == AddressFamily.InterNetworkV6 && endPoint.Address.Equals(IPAddress.IPv6Any))
            {
                listener.DualMode = true;
            }

            listener.Bind(endPoint);
            listener.Listen(_options.ListenBacklog);
        }
        catch
        {
            listener.Dispose();
            _completion.TrySetResult();
            throw;
        }

        _listener = listener;
        EndPoint = (IPEndPoint)listener.LocalEndPoint!;
        ServerLog.Started(_logger, EndPoint, _messages.Messages.Count, _messages.Fingerprint);
        _acceptLoop = AcceptLoopAsync(listener);
        _keepAliveLoop = KeepAliveLoopAsync();
    }

    /// <summary>
    /// Stops: no new connections are accepted, messages already queued go out, every connection is closed (the
    /// client is told the server is stopping) and the leave hook runs for each user. Safe to call more than once.
    /// </summary>
    public Task StopAsync(CancellationToken cancellationToken = default)
    {
        lock (_lifecycleLock)
        {
            _stopTask ??= StopCoreAsync(null);
        }

        return _stopTask.WaitAsync(cancellationToken);
    }

    /// <summary>Starts, runs until <paramref name="cancellationToken"/> is cancelled or the server fails, then stops.</summary>
    /// <exception cref="Exception">The error that stopped the server, if one did.</exception>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        await Completion.ConfigureAwait(false);
    }

    /// <summary>
    /// Starts and blocks until the server is stopped, by <see cref="StopAsync"/>, Ctrl+C or SIGTERM; then rethrows
    /// the error that stopped the server, if one did. As the original's <c>launch()</c>.
    /// </summary>
    public void Launch()
    {
        StartAsync().GetAwaiter().GetResult();
        using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using PosixSignalRegistration terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        Completion.GetAwaiter().GetResult();

        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            _ = StopAsync();
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_started)
        {
            await StopAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Throws if <paramref name="message"/> cannot be sent by this server.</summary>
    internal void CheckOutgoing(IMessage message)
    {
        if (!_wireMessages.Contains(message.Descriptor))
        {
            throw new ArgumentException($"{message.Descriptor.Name} is not one of the server's message types.", nameof(message));
        }
    }

    /// <summary>Checks a login and accepts or rejects it. Runs on the connection's receive loop.</summary>
    internal async ValueTask LoginAsync(Connection connection, Login login)
    {
        IPAddress? address = (connection.RemoteEndPoint as IPEndPoint)?.Address;
        if (!string.Equals(login.Fingerprint, _messages.Fingerprint, StringComparison.Ordinal))
        {
            Reject(connection, login.Username, DefinitionsMismatch.Reason(login.Fingerprint, _messages));
            return;
        }

        if (_throttle.IsRefused(address))
        {
            Reject(connection, login.Username, "Too many failed logins from this address; try again later.");
            return;
        }

        LoginResult result;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token))
        {
            timeout.CancelAfter(_options.LoginTimeout);
            try
            {
                result = await _validator(login.Username, login.Password, connection.Salt, login.Version, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                Reject(connection, login.Username, "The login took too long to check.");
                return;
            }
            catch (Exception ex)
            {
                ServerLog.ValidatorFailed(_logger, ex, login.Username);
                Reject(connection, login.Username, "The server could not check the login.");
                return;
            }
        }

        if (connection.Transport.IsClosing)
        {
            return;
        }

        if (result.User is not { } user)
        {
            if (_throttle.RecordFailure(address))
            {
                ServerLog.AddressThrottled(_logger, address!, _options.MaxFailedLoginsPerAddress, _options.FailedLoginWindow.TotalSeconds);
            }

            Reject(connection, login.Username, result.RejectionReason ?? LoginValidation.GenericRejection);
            return;
        }

        // Checked only now, after the password, so that a stranger cannot learn who is online.
        if (!TryAddUserConnection(user.Name))
        {
            Reject(connection, login.Username,
                $"User {user.Name} already has the most connections allowed ({_options.MaxConnectionsPerUser}).");
            return;
        }

        connection.MarkLoggedIn(user);
        Interlocked.Decrement(ref _pendingLogins);
        int loggedIn = Interlocked.Increment(ref _loggedIn);
        connection.Transport.MaxIncomingFrameSize = _options.MaxFrameSize;
        connection.Transport.TrySend(new LoginAccepted());
        ServerLog.LoginAccepted(_logger, connection.Id, user.Name, login.Version, loggedIn);
        // A batch of its own: when the room is busy this continues on another thread while the connection's
        // receive loop flushes its own batch (the acceptance), and a batch is not safe to share between threads.
        await Room.EnterAsync(connection, new FlushBatch()).ConfigureAwait(false);
    }

    private void Reject(Connection connection, string username, string reason)
    {
        ServerLog.LoginRejected(_logger, connection.Id, connection.RemoteEndPoint, username, reason);
        connection.Transport.TrySend(new LoginRejected(reason));
        connection.Transport.Close("login rejected: " + reason);
    }

    private bool TryAddUserConnection(string name)
    {
        lock (_userConnectionsLock)
        {
            _userConnections.TryGetValue(name, out int count);
            if (count >= _options.MaxConnectionsPerUser)
            {
                return false;
            }

            _userConnections[name] = count + 1;
            return true;
        }
    }

    /// <summary>Counts one connection of user <paramref name="name"/> as gone (see <see cref="Connection.ReleaseUser"/>).</summary>
    internal void ReleaseUserConnection(string name)
    {
        Interlocked.Decrement(ref _loggedIn);
        RemoveUserConnection(name);
    }

    private void RemoveUserConnection(string name)
    {
        lock (_userConnectionsLock)
        {
            if (_userConnections.TryGetValue(name, out int count))
            {
                if (count <= 1)
                {
                    _userConnections.Remove(name);
                }
                else
                {
                    _userConnections[name] = count - 1;
                }
            }
        }
    }

    /// <summary>How many connections are open and not yet logged in (for tests and diagnostics).</summary>
    internal int PendingLogins => Volatile.Read(ref _pendingLogins);

    /// <summary>How many connections a user has open (for tests and diagnostics).</summary>
    internal int ConnectionsOf(string name)
    {
        lock (_userConnectionsLock)
        {
            return _userConnections.GetValueOrDefault(name);
        }
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        TimeSpan backoff = TimeSpan.Zero;
        try
        {
            while (true)
            {
                Socket socket;
                try
                {
                    socket = await listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
                    backoff = TimeSpan.Zero;
                }
                catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
                {
                    return;
                }
                catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
                {
                    continue;
                }
                catch (SocketException ex)
                {
                    // Out of file descriptors or buffers, say: a condition that passes as connections close. Keep
                    // serving those already open, and try again after a pause that grows while it lasts.
                    backoff = backoff == TimeSpan.Zero ? TimeSpan.FromMilliseconds(10) : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.TicksPerSecond));
                    ServerLog.AcceptFailed(_logger, ex.SocketErrorCode, ex.Message, (long)backoff.TotalMilliseconds);
                    try
                    {
                        await Task.Delay(backoff, _stopping.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }

                    continue;
                }

                if (Volatile.Read(ref _pendingLogins) >= _options.MaxPendingLogins)
                {
                    ServerLog.TooManyPendingLogins(_logger, socket.RemoteEndPoint, _options.MaxPendingLogins);
                    RefuseBusy(socket);
                    continue;
                }

                Interlocked.Increment(ref _pendingLogins);
                long id = Interlocked.Increment(ref _nextConnectionId);
                Task task = RunConnectionAsync(id, socket);
                _connectionTasks[id] = task;
                _ = task.ContinueWith(
                    static (_, state) =>
                    {
                        var (server, id) = ((Server, long))state!;
                        server._connectionTasks.TryRemove(id, out Task? _);
                    },
                    (this, id),
                    CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously,
                    TaskScheduler.Default);
            }
        }
        catch (Exception ex) when (!_stopping.IsCancellationRequested)
        {
            ServerLog.Failed(_logger, ex);
            lock (_lifecycleLock)
            {
                _stopTask ??= StopCoreAsync(ex);
            }
        }
    }

    /// <summary>
    /// Turns a connection away without serving it. Without TLS the client is told why, in a <c>_Closing</c> it
    /// reads in place of the welcome (one small write into an empty socket buffer, which does not block).
    /// </summary>
    private void RefuseBusy(Socket socket)
    {
        try
        {
            if (_options.Certificate is null)
            {
                socket.Blocking = false;
                socket.Send(s_busyFrame, SocketFlags.None, out _);
                socket.Shutdown(SocketShutdown.Send);
                socket.Close();
                return;
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // The peer has gone already.
        }

        socket.Close(0);
    }

    private async Task RunConnectionAsync(long id, Socket socket)
    {
        // Leave the accept loop at once: the TLS handshake and the login happen on their own.
        await Task.Yield();
        Connection? connection = null;
        try
        {
            // One clock for the TLS handshake and the login together, started at the accept.
            using var loginTimeout = new CancellationTokenSource(_options.LoginTimeout);
            socket.NoDelay = true;
            Stream stream = new NetworkStream(socket, ownsSocket: true);
            if (_options.Certificate is { } certificate)
            {
                Stream? secured = await AuthenticateAsync(id, socket, stream, certificate, loginTimeout.Token).ConfigureAwait(false);
                if (secured is null)
                {
                    return;
                }

                stream = secured;
            }

            var transport = new MessageConnection(stream, socket, _wireMessages, _limits)
            {
                MaxIncomingFrameSize = _options.MaxLoginFrameSize,
            };
            connection = new Connection(id, transport, this, Credentials.NewSalt());
            _connections[id] = connection;
            ServerLog.ConnectionOpened(_logger, id, transport.RemoteEndPoint, _connections.Count);
            transport.Start();
            transport.TrySend(new Welcome(WireProtocol.Version, connection.Salt, _messages.Fingerprint));

            using CancellationTokenRegistration timeoutRegistration = loginTimeout.Token.Register(static state =>
            {
                var (c, seconds) = ((Connection, double))state!;
                if (c.IsLoggingIn)
                {
                    c.CloseForViolation($"did not log in within {seconds:0.###} s");
                }
            }, (connection, _options.LoginTimeout.TotalSeconds));

            ReceiveOutcome outcome = await transport.ReceiveAsync(connection).ConfigureAwait(false);
            if (outcome.IsProtocolViolation)
            {
                connection.CloseForViolation(outcome.Reason);
            }
            else
            {
                transport.Close(outcome.Reason);
            }

            string reason = transport.CloseReason ?? outcome.Reason;
            if (connection.BrokeProtocol)
            {
                ServerLog.ProtocolViolation(_logger, id, connection.UserName, transport.RemoteEndPoint, reason);
            }
            else if (transport.QueueLimitExceeded)
            {
                ServerLog.NotReading(_logger, id, connection.UserName, transport.RemoteEndPoint, reason);
            }

            ServerLog.ConnectionClosed(_logger, id, connection.UserName, reason, _connections.Count - 1);
        }
        catch (Exception ex) when (ex is IOException or SocketException or System.Security.Authentication.AuthenticationException or OperationCanceledException)
        {
            ServerLog.TlsFailed(_logger, id, SafeRemoteEndPoint(socket), ex.Message);
            socket.Dispose();
        }
        catch (Exception ex)
        {
            // A bug (in a hand-written message descriptor, say), not the peer's doing: log it and drop only this connection.
            ServerLog.ConnectionFailed(_logger, ex, id, connection?.UserName ?? "not logged in");
            connection?.Transport.Abort("the server failed while handling the connection");
            socket.Dispose();
        }
        finally
        {
            // A connection that logged in gave its pending-login slot back then.
            if (connection?.IsLoggingIn ?? true)
            {
                Interlocked.Decrement(ref _pendingLogins);
            }

            if (connection is not null)
            {
                _connections.TryRemove(id, out _);
                if (connection.MarkClosed())
                {
                    connection.ReleaseUser();
                    await Room.LeaveAsync(connection, connection.Batch).ConfigureAwait(false);
                }

                TimeSpan drain = _stopping.IsCancellationRequested ? _options.StopTimeout : TimeSpan.FromSeconds(2);
                await connection.Transport.CloseAndDisposeAsync(drain).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Does the server's side of the TLS handshake; null (logged, and the connection closed) if it fails.</summary>
    private async Task<Stream?> AuthenticateAsync(long id, Socket socket, Stream stream, X509Certificate2 certificate, CancellationToken loginTimeout)
    {
        EndPoint? remote = SafeRemoteEndPoint(socket);
        var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, loginTimeout);
        try
        {
            await ssl.AuthenticateAsServerAsync(
                new SslServerAuthenticationOptions { ServerCertificate = certificate, ClientCertificateRequired = false },
                cancel.Token).ConfigureAwait(false);
            return ssl;
        }
        catch (Exception ex) when (ex is IOException or SocketException or AuthenticationException or OperationCanceledException)
        {
            string reason = loginTimeout.IsCancellationRequested ? $"did not finish the TLS handshake within {_options.LoginTimeout.TotalSeconds:0.###} s"
                : _stopping.IsCancellationRequested ? "the server is stopping"
                : ex.Message;
            ServerLog.TlsFailed(_logger, id, remote, reason);
            await ssl.DisposeAsync().ConfigureAwait(false);
            return null;
        }
    }

    private async Task KeepAliveLoopAsync()
    {
        long interval = (long)_options.PingInterval.TotalMilliseconds;
        long timeout = (long)_options.PingTimeout.TotalMilliseconds;
        TimeSpan tick = TimeSpan.FromMilliseconds(Math.Clamp(Math.Min(interval, timeout) / 4, 10, 1000));
        using var timer = new PeriodicTimer(tick);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                long now = Environment.TickCount64;
                foreach (Connection connection in _connections.Values)
                {
                    if (!connection.IsLoggedIn || connection.Transport.IsClosing)
                    {
                        continue;
                    }

                    // Time the server spent handling this connection's messages (or waiting for the room, held by
                    // a slow handler) is not the peer's silence: its answers wait unread in the socket meanwhile.
                    long lastReceived = Math.Max(connection.Transport.LastReceivedTicks, connection.DispatchEndedTicks);
                    if (connection.PingSentTicks != 0)
                    {
                        if (lastReceived >= connection.PingSentTicks)
                        {
                            connection.PingSentTicks = 0;
                        }
                        else if (now - connection.PingSentTicks >= timeout && !connection.IsDispatching)
                        {
                            connection.Close($"no answer to a ping within {_options.PingTimeout.TotalSeconds:0.###} s");
                        }
                    }
                    else if (now - lastReceived >= interval)
                    {
                        connection.PingSentTicks = now;
                        ServerLog.Pinged(_logger, connection.Id, connection.UserName, now - lastReceived);
                        connection.Transport.TrySend(new Ping());
                    }
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    private async Task StopCoreAsync(Exception? failure)
    {
        ServerLog.Stopping(_logger, _connections.Count);
        _stopping.Cancel();
        _listener?.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        await _keepAliveLoop.ConfigureAwait(false);

        foreach (Connection connection in _connections.Values)
        {
            connection.Close("the server is stopping");
        }

        Task all = Task.WhenAll(_connectionTasks.Values);
        try
        {
            await all.WaitAsync(_options.StopTimeout + TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            foreach (Connection connection in _connections.Values)
            {
                connection.Transport.Abort("the server stopped");
            }

            await Task.WhenAll(_connectionTasks.Values).ConfigureAwait(false);
        }

        ServerLog.Stopped(_logger);
        if (failure is null)
        {
            _completion.TrySetResult();
        }
        else
        {
            _completion.TrySetException(failure);
        }
    }

    private static async Task<IPEndPoint> ResolveAsync(string? host, int port, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(host) || host == "*")
        {
            return new IPEndPoint(Socket.OSSupportsIPv6 ? IPAddress.IPv6Any : IPAddress.Any, port);
        }

        if (IPAddress.TryParse(host, out IPAddress? address))
        {
            return new IPEndPoint(address, port);
        }

        IPAddress[] addresses = await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        IPAddress chosen = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.First();
        return new IPEndPoint(chosen, port);
    }

    private static EndPoint? SafeRemoteEndPoint(Socket socket)
    {
        try
        {
            return socket.RemoteEndPoint;
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
    }

    private static byte[] EncodeFrame(IMessage message)
    {
        FrameBuffer frame = FrameBuffer.Encode(message);
        byte[] bytes = frame.Frame.ToArray();
        FrameBuffer.Return(frame);
        return bytes;
    }

    private static AsyncLoginValidator Wrap(LoginValidator validator) =>
        (username, password, salt, version, _) => ValueTask.FromResult(validator(username, password, salt, version));
}

/// <summary>Facts about the wire protocol itself.</summary>
internal static class WireProtocol
{
    /// <summary>The protocol version in the welcome; a client refuses a server that speaks another.</summary>
    public const int Version = 1;
}
