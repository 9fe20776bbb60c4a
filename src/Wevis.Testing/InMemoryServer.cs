using Microsoft.Extensions.Time.Testing;

namespace Wevis.Testing;

/// <summary>
/// A <see cref="Wevis.Server"/> for tests, with no sockets: its clients are joined to it by in-process pipes, and it
/// runs on a fake clock (<see cref="Clock"/>) that the test moves, so a room's ticks and timers, login timeouts and
/// pings are tested in milliseconds. Everything above the bytes (the login, the keep-alive, rooms, moves, the
/// closing handshake) is the real server's.
/// </summary>
/// <remarks>
/// <para>Clients made here (<see cref="CreateClient"/>, <see cref="ConnectAsync"/>) are ordinary
/// <see cref="Client"/>s whose connection is a pipe. They keep their own clock (the system's unless their options name
/// another), so moving the server's clock far ahead does not make them think the server went silent.</para>
/// <para>Wait for what arrives with a bound on real time: <see cref="ClientTestExtensions.WaitForAsync{T}(Client, TimeSpan)"/>.</para>
/// </remarks>
/// <example>
/// <code>
/// await using var server = InMemoryServer.Start(validator, new TimeRoom());
/// await using Client client = await server.ConnectAsync("michael", "mypassword", "1.0.0");
/// await client.WaitForAsync&lt;ServerReady&gt;(TimeSpan.FromSeconds(5));
/// server.Clock.Advance(TimeSpan.FromSeconds(1)); // ticks and timers due by then run
/// </code>
/// </example>
public sealed class InMemoryServer : IAsyncDisposable
{
    /// <summary>Makes a server (not yet started) whose validator checks logins synchronously.</summary>
    /// <param name="validator">Decides each login.</param>
    /// <param name="room">The entry room.</param>
    /// <param name="options">
    /// Further settings. Unless they name a clock of their own (<see cref="ServerOptions.TimeProvider"/>), the server
    /// runs on <see cref="Clock"/>. Host, port, TLS and the listen backlog are not used. The server works on a copy, so
    /// these options are left as they were and can be given to other servers too.
    /// </param>
    public InMemoryServer(LoginValidator validator, Room room, ServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(validator);
        Server = new Server(validator, room, Prepare(options));
    }

    /// <summary>Makes a server (not yet started) whose validator checks logins asynchronously.</summary>
    /// <param name="validator">Decides each login.</param>
    /// <param name="room">The entry room.</param>
    /// <param name="options">Further settings; as for the other constructor.</param>
    public InMemoryServer(AsyncLoginValidator validator, Room room, ServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(validator);
        Server = new Server(validator, room, Prepare(options));
    }

    /// <summary>
    /// Serves in memory a server made by <paramref name="create"/> (a program's own factory, which defines its room
    /// types, say), given options that run it on <see cref="Clock"/>.
    /// </summary>
    /// <param name="create">Makes the server, not started, from the options it is given (a copy of <paramref name="options"/>, which it may change as it likes).</param>
    /// <param name="options">The options to give it; as for the other constructors.</param>
    public InMemoryServer(Func<ServerOptions, Server> create, ServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(create);
        Server = create(Prepare(options)) ?? throw new InvalidOperationException("The factory made no server.");
    }

    /// <summary>
    /// The fake clock the server runs on unless its options named another: move it with <c>Advance</c> or
    /// <c>SetUtcNow</c>, and what falls due (ticks, timers, login timeouts, pings) runs.
    /// </summary>
    public FakeTimeProvider Clock { get; } = new();

    /// <summary>The server: its rooms, its options, its connections.</summary>
    public Server Server { get; }

    /// <summary>The server's rooms (<see cref="Server.Rooms"/>).</summary>
    public RoomDirectory Rooms => Server.Rooms;

    /// <summary>Makes and starts a server whose validator checks logins synchronously.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static InMemoryServer Start(LoginValidator validator, Room room, ServerOptions? options = null) =>
        new InMemoryServer(validator, room, options).Start();

    /// <summary>Makes and starts a server whose validator checks logins asynchronously.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static InMemoryServer Start(AsyncLoginValidator validator, Room room, ServerOptions? options = null) =>
        new InMemoryServer(validator, room, options).Start();

    /// <summary>Makes and starts a server with <paramref name="create"/>, as <see cref="InMemoryServer(Func{ServerOptions, Server}, ServerOptions?)"/> does.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static InMemoryServer Start(Func<ServerOptions, Server> create, ServerOptions? options = null) =>
        new InMemoryServer(create, options).Start();

    /// <summary>Starts the server: from now on clients can connect. Returns this server.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="InvalidOperationException">The server has already been started.</exception>
    public InMemoryServer Start()
    {
        Server.StartInMemory();
        return this;
    }

    /// <summary>
    /// Makes a client whose connection to this server is an in-process pipe; nothing happens until its
    /// <see cref="Client.ConnectAsync"/>.
    /// </summary>
    /// <param name="username">The name to log in as.</param>
    /// <param name="password">The password.</param>
    /// <param name="version">The client program's version.</param>
    /// <param name="options">
    /// Further settings (message types, frame limits, the client's clock); TLS is not used. The client works on a copy
    /// joined to this server, so these options are left as they were and can be given to clients of other servers too.
    /// </param>
    public Client CreateClient(string username, string password, string version, ClientOptions? options = null)
    {
        // A copy: the caller's options may serve clients of other servers, and a client reads its connector on every connect.
        ClientOptions own = options is null ? new ClientOptions() : OptionsCopies.Copy(options);
        own.Connector = _ =>
        {
            (InMemoryStream client, InMemoryStream server) = InMemoryStream.CreatePair();
            Server.AcceptInMemory(server);
            return ValueTask.FromResult<Stream>(client);
        };
        return new Client(username, password, version, "in-memory", 1, own);
    }

    /// <summary>Makes a client (as <see cref="CreateClient"/>), connects it and logs it in.</summary>
    /// <param name="username">The name to log in as.</param>
    /// <param name="password">The password.</param>
    /// <param name="version">The client program's version.</param>
    /// <param name="options">Further settings.</param>
    /// <exception cref="LoginRejectedException">The server refused the login.</exception>
    /// <exception cref="ConnectionFailedException">The login did not finish within the client's connect timeout.</exception>
    public async Task<Client> ConnectAsync(string username, string password, string version, ClientOptions? options = null)
    {
        Client client = CreateClient(username, password, version, options);
        try
        {
            await client.ConnectAsync().ConfigureAwait(false);
            return client;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Stops the server as <see cref="Server.StopAsync"/> does: users are told, queued messages go out, rooms are disposed.</summary>
    public async ValueTask DisposeAsync() => await Server.DisposeAsync().ConfigureAwait(false);

    /// <summary>A copy of <paramref name="options"/> on <see cref="Clock"/> unless they name a clock; the caller's are left as they were.</summary>
    private ServerOptions Prepare(ServerOptions? options)
    {
        ServerOptions own = options is null ? new ServerOptions() : OptionsCopies.Copy(options);
        if (ReferenceEquals(own.TimeProvider, TimeProvider.System))
        {
            own.TimeProvider = Clock;
        }

        return own;
    }
}
