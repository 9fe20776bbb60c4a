using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Wevis.Diagnostics;
using Wevis.Sessions;

namespace Wevis;

/// <summary>
/// A Wevis server: accepts TCP connections, logs clients in with the validator, puts each logged-in user in the
/// entry room, and keeps idle connections alive with pings. One instance serves many clients; more rooms are made
/// at run time through <see cref="Rooms"/>.
/// </summary>
/// <example>
/// <code>
/// var server = new Server(Validate, new TimeRoom(), new ServerOptions { Port = 12121 });
/// server.Launch(); // until Ctrl+C
/// </code>
/// </example>
public sealed class Server : IAsyncDisposable, ISessionHost
{
    private readonly AsyncLoginValidator _validator;
    private readonly ServerOptions _options;
    private readonly ILogger _logger;
    private readonly OpenConnections _connections = new();
    private ResumableSessions? _resumption;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lifecycleLock = new();
    private readonly object _flushGroup = new();
    private MessageRegistry _messages = MessageRegistry.Empty;
    private ServerLogin? _login;
    private ServerMetrics? _metrics;
    private ConnectionRunner? _runner;
    private long _nextInMemoryId;
    private Socket? _listener;
    private Task _acceptLoop = Task.CompletedTask;
    private Task _keepAliveLoop = Task.CompletedTask;
    private Task? _stopTask;
    private bool _started;

    /// <summary>Creates a server whose validator checks logins synchronously.</summary>
    /// <param name="validator">Decides each login.</param>
    /// <param name="room">The entry room, which every user enters after logging in (the lobby; for a one-room server, the room).</param>
    /// <param name="options">Further settings.</param>
    public Server(LoginValidator validator, Room room, ServerOptions? options = null)
        : this(Wrap(validator ?? throw new ArgumentNullException(nameof(validator))), room, options)
    {
    }

    /// <summary>Creates a server whose validator checks logins asynchronously (against a user store, say).</summary>
    /// <param name="validator">Decides each login.</param>
    /// <param name="room">The entry room, which every user enters after logging in (the lobby; for a one-room server, the room).</param>
    /// <param name="options">Further settings.</param>
    public Server(AsyncLoginValidator validator, Room room, ServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(validator);
        ArgumentNullException.ThrowIfNull(room);
        _validator = validator;
        _options = options ?? new ServerOptions();
        _logger = _options.LoggerFactory?.CreateLogger("Wevis.Server") ?? NullLogger.Instance;
        Rooms = new RoomDirectory(room);
    }

    /// <summary>The entry room: every logged-in user enters it first.</summary>
    public Room Room => Rooms.EntryRoom;

    /// <summary>The server's rooms: define room types, create, find and list rooms, move users.</summary>
    public RoomDirectory Rooms { get; }

    /// <summary>The address the server listens on, once started.</summary>
    public IPEndPoint? EndPoint { get; private set; }

    /// <summary>The port the server listens on, once started: the one asked for, or the one picked for port 0.</summary>
    /// <exception cref="InvalidOperationException">The server has not started.</exception>
    public int Port => EndPoint?.Port ?? throw new InvalidOperationException("The server has not started.");

    /// <summary>The message types this server speaks (without the protocol's own).</summary>
    public MessageRegistry Messages => _messages;

    /// <summary>Open connections, logging in or logged in.</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>Whether the server has started and not yet stopped.</summary>
    public bool IsRunning => _started && !_completion.Task.IsCompleted;

    /// <summary>Completes when the server has stopped; faults with the error that stopped it, if one did.</summary>
    public Task Completion => _completion.Task;

    /// <summary>How many connections are open and not yet logged in (for tests and diagnostics).</summary>
    internal int PendingLogins => _connections.PendingLogins;

    /// <summary>Starts listening and returns; the server runs in the background until <see cref="StopAsync"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="SocketException">The address cannot be listened on (the port is taken, say).</exception>
    /// <exception cref="InvalidOperationException">The server has already been started.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        MarkStarted();
        ConnectionRunner runner;
        Socket socket;
        try
        {
            runner = Prepare();
            IPEndPoint endPoint = await ResolveAsync(_options.Host, _options.Port, cancellationToken).ConfigureAwait(false);
            socket = Listener.Listen(endPoint, _options.ListenBacklog);
        }
        catch
        {
            // A server that failed to start has stopped: not running, and its completion done.
            _completion.TrySetResult();
            throw;
        }

        _listener = socket;
        EndPoint = (IPEndPoint)socket.LocalEndPoint!;
        ServerLog.Started(_logger, EndPoint, _messages.Messages.Count, _messages.Fingerprint);
        var listener = new Listener(socket, _options, _connections, runner.RunAsync, _logger);
        _acceptLoop = AcceptAsync(listener);
        _keepAliveLoop = KeepAlive.RunAsync(_connections, _options.PingInterval, _options.PingTimeout, _options.TimeProvider, _stopping.Token);
    }

    /// <summary>
    /// Stops: no new connections are accepted, messages already queued go out, every connection is closed (the
    /// client is told the server is stopping), the leave hook runs for each user, and every room is disposed.
    /// Safe to call more than once.
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

    /// <summary>How many connections a user has open (for tests and diagnostics).</summary>
    internal int ConnectionsOf(string name) => _login?.ConnectionsOf(name) ?? 0;

    /// <summary>
    /// What logged-in sessions are handed to instead of this server's rooms: set by a gateway in front of a cluster
    /// (Wevis.Orleans), whose users' rooms live on other nodes. Null: this server's own rooms.
    /// </summary>
    internal Func<ServerSession, ISessionReceiver>? SessionHost { get; set; }

    /// <summary>
    /// Where a resume token this server does not know is looked for (set by a cluster gateway: the session may be
    /// held by another gateway, or its gateway died). Null: such a resume is refused.
    /// </summary>
    internal Func<ServerSession, User, string, ValueTask<SessionElsewhere>>? ResumeElsewhere { get; set; }

    /// <summary>The server's metrics once started (for tests that listen to this server's meter only).</summary>
    internal ServerMetrics? Metrics => _metrics;

    /// <summary>
    /// Starts without listening: connections come only through <see cref="AcceptInMemory"/> (Wevis.Testing's
    /// in-memory server). Everything else is as <see cref="StartAsync"/> starts it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="InvalidOperationException">The server has already been started.</exception>
    internal void StartInMemory()
    {
        MarkStarted();
        try
        {
            Prepare();
        }
        catch
        {
            _completion.TrySetResult();
            throw;
        }

        ServerLog.Started(_logger, new DnsEndPoint("in-memory", 0), _messages.Messages.Count, _messages.Fingerprint);
        _keepAliveLoop = KeepAlive.RunAsync(_connections, _options.PingInterval, _options.PingTimeout, _options.TimeProvider, _stopping.Token);
    }

    /// <summary>Serves a connection whose bytes come and go through <paramref name="stream"/> (no socket, no TLS), as an accepted one.</summary>
    /// <exception cref="InvalidOperationException">The server has not started, or is stopping.</exception>
    internal void AcceptInMemory(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (_runner is not { } runner || _stopping.IsCancellationRequested)
        {
            throw new InvalidOperationException("The server is not running.");
        }

        _connections.AddPending();
        long id = Interlocked.Increment(ref _nextInMemoryId);
        _connections.Track(id, runner.RunAsync(id, stream));
    }

    /// <summary>Marks the server started, once: a second start throws, and leaves the first one's state alone.</summary>
    private void MarkStarted()
    {
        lock (_lifecycleLock)
        {
            if (_started)
            {
                throw new InvalidOperationException("The server has already been started.");
            }

            _started = true;
        }
    }

    /// <summary>Everything starting does but listening: checks the options, makes the login, the rooms' settings and the metrics.</summary>
    private ConnectionRunner Prepare()
    {
        _options.Validate();
        _messages = _options.Messages ?? MessageRegistry.Default;
        MessageRegistry wireMessages = MessageRegistry.Combine(WevisRegistry.Messages, _messages);
        var rules = new LoginRules(_options.LoginTimeout, _options.MaxConnectionsPerUser, _options.MaxFailedLoginsPerAddress, _options.FailedLoginWindow);
        _metrics = new ServerMetrics(_options.MeterFactory, wireMessages, new ServerObservations(_connections, () => _login, Rooms));
        _login = new ServerLogin(_validator, _messages.Fingerprint, rules, _options.TimeProvider, _logger, _stopping.Token, _metrics);
        Rooms.Start(wireMessages, _options.MaxFrameSize, _options.MaxRooms, _options.TimeProvider, _options.LoggerFactory, _flushGroup);
        Rooms.Metrics = _metrics;
        Rooms.StateStore = _options.RoomStateStore;
        // A cluster gateway's receivers (SessionHost) take drops and resumes too: they pass them on to the user's room's grain.
        _resumption = _options.ResumeGracePeriod > TimeSpan.Zero
            ? new ResumableSessions(_options.ResumeGracePeriod, _options.MaxUnacknowledgedBytes, _options.MaxUnacknowledgedAge, _options.TimeProvider, _logger)
            : null;
        _runner = new ConnectionRunner(_options, wireMessages, _messages.Fingerprint, _login, this, _connections, _flushGroup, _logger, _stopping.Token, _metrics, _resumption);
        return _runner;
    }

    ISessionReceiver ISessionHost.Accept(ServerSession session)
    {
        _connections.RemovePending();
        return SessionHost?.Invoke(session) ?? new LocalConnection(session, Rooms);
    }

    void ISessionHost.Resumed(ServerSession session) => _connections.RemovePending();

    bool ISessionHost.ResumesElsewhere => ResumeElsewhere is not null;

    ValueTask<SessionElsewhere> ISessionHost.ResumeElsewhereAsync(ServerSession session, User user, string token) =>
        ResumeElsewhere?.Invoke(session, user, token) ?? ValueTask.FromResult(SessionElsewhere.Refused("the resume token is not valid"));

    /// <summary>
    /// For tests of a crash: the server vanishes as if its process had died. It stops listening and cuts every
    /// connection abruptly; resumable sessions end here without their users leaving (no receiver is told), so what
    /// is above hears nothing. <see cref="StopAsync"/> may follow to free what is left.
    /// </summary>
    internal void Vanish()
    {
        _resumption?.Vanish();
        _stopping.Cancel();
        _listener?.Dispose();
        foreach (ServerSession session in _connections.Sessions)
        {
            session.Transport.Abort("the server vanished");
        }
    }

    private async Task AcceptAsync(Listener listener)
    {
        try
        {
            await listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
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

    private async Task StopCoreAsync(Exception? failure)
    {
        ServerLog.Stopping(_logger, _connections.Count);
        Rooms.IsStopping = true;
        _stopping.Cancel();
        _listener?.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        await _keepAliveLoop.ConfigureAwait(false);

        foreach (ServerSession session in _connections.Sessions)
        {
            // Queued output has the whole stop timeout to go out, not just a close's usual linger.
            session.Close("the server is stopping", _options.StopTimeout);
        }

        Task all = Task.WhenAll(_connections.Tasks);
        try
        {
            await all.WaitAsync(_options.StopTimeout + TimeSpan.FromSeconds(1), _options.TimeProvider).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            foreach (ServerSession session in _connections.Sessions)
            {
                session.Transport.Abort("the server stopped");
            }

            await Task.WhenAll(_connections.Tasks).ConfigureAwait(false);
        }

        if (_resumption is not null)
        {
            await _resumption.EndAllDroppedAsync("the server stopped").ConfigureAwait(false);
        }

        await Rooms.DisposeAllAsync().ConfigureAwait(false);
        _metrics?.Dispose();
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

    private static AsyncLoginValidator Wrap(LoginValidator validator) =>
        (username, password, salt, version, _) => ValueTask.FromResult(validator(username, password, salt, version));
}
