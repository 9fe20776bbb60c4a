using Microsoft.Extensions.Logging;
using Wevis.Testing;

namespace Wevis.Runtime.Tests.Infrastructure;

/// <summary>
/// A server on 127.0.0.1 and an ephemeral port, or in memory (<see cref="StartInMemoryAsync"/>, where sockets are not
/// the point), with the example's validator (michael/mypassword and a few other users, version 1.0.0), a
/// <see cref="TimeRoom"/> and a captured log. Disposing stops it.
/// </summary>
internal sealed class TestServer : IAsyncDisposable
{
    public const string Version = "1.0.0";

    private readonly InMemoryServer? _inMemory;

    private TestServer(Server server, TimeRoom room, TestLog log, TestClock? clock, InMemoryServer? inMemory = null)
    {
        Server = server;
        Room = room;
        Log = log;
        Clock = clock;
        _inMemory = inMemory;
    }

    public Server Server { get; }

    public TimeRoom Room { get; }

    public TestLog Log { get; }

    /// <summary>The fake clock the server runs on, if it was given one; null: the system clock.</summary>
    public TestClock? Clock { get; }

    /// <summary>The server's port; there is none in memory.</summary>
    public int Port => _inMemory is null ? Server.Port : throw new InvalidOperationException("An in-memory server has no port.");

    /// <summary>The validator: "michael"/"mypassword", and "user0".."user9999"/"pw"; "banned" is refused with its own reason.</summary>
    public static LoginResult Validate(string username, string password, string salt, string version)
    {
        if (version != Version)
        {
            return $"Client version {version} is not supported; please upgrade to {Version}.";
        }

        if (username == "banned")
        {
            return "This account is banned.";
        }

        string? expected = username == "michael" ? "mypassword" : username.StartsWith("user", StringComparison.Ordinal) ? "pw" : null;
        return expected is not null && Credentials.Verify(password, expected, salt) ? new User(username) : null;
    }

    public static async Task<TestServer> StartAsync(
        Action<ServerOptions>? configure = null, TimeRoom? room = null, AsyncLoginValidator? validator = null, TestClock? clock = null)
    {
        var log = new TestLog();
        var options = new ServerOptions
        {
            Host = "127.0.0.1",
            Port = 0,
            LoggerFactory = log,
            StopTimeout = TimeSpan.FromSeconds(2),
            TimeProvider = clock ?? TimeProvider.System,
        };
        configure?.Invoke(options);
        room ??= new TimeRoom();
        Server server = validator is null ? new Server(Validate, room, options) : new Server(validator, room, options);
        await server.StartAsync().Within();
        return new TestServer(server, room, log, clock);
    }

    /// <summary>
    /// The same server in memory (Wevis.Testing): clients are joined to it by pipes, no sockets. Its clock is the
    /// in-memory server's fake one unless <paramref name="configure"/> sets another.
    /// </summary>
    public static Task<TestServer> StartInMemoryAsync(Action<ServerOptions>? configure = null, TimeRoom? room = null, AsyncLoginValidator? validator = null)
    {
        var log = new TestLog();
        var options = new ServerOptions
        {
            LoggerFactory = log,
            StopTimeout = TimeSpan.FromSeconds(2),
        };
        configure?.Invoke(options);
        room ??= new TimeRoom();
        InMemoryServer server = validator is null ? new InMemoryServer(Validate, room, options) : new InMemoryServer(validator, room, options);
        server.Start();
        return Task.FromResult(new TestServer(server.Server, room, log, null, server));
    }

    public Client CreateClient(
        string username = "michael", string password = "mypassword", string version = Version, Action<ClientOptions>? configure = null, TimeProvider? time = null)
    {
        var options = new ClientOptions { LoggerFactory = Log, ConnectTimeout = TimeSpan.FromSeconds(10), TimeProvider = time ?? TimeProvider.System };
        configure?.Invoke(options);
        return _inMemory is not null
            ? _inMemory.CreateClient(username, password, version, options)
            : new Client(username, password, version, "127.0.0.1", Port, options);
    }

    /// <summary>A client that has logged in and received the room's <c>ServerReady</c>.</summary>
    public async Task<Client> ConnectAsync(string username = "michael", string password = "mypassword", TimeProvider? time = null, Action<ClientOptions>? configure = null)
    {
        Client client = CreateClient(username, password, configure: configure, time: time);
        await client.ConnectAsync().Within();
        await client.ReceiveAsync<Example.ServerReady>().Within();
        return client;
    }

    public RawPeer CreateRawPeer() => RawPeer.Connect(Port);

    public async ValueTask DisposeAsync()
    {
        Task stopping = Server.StopAsync();
        if (Clock is not null)
        {
            // Teardown only: a connection still lingering waits on the fake clock, so let the clock run until it ends.
            for (int i = 0; i < 60 && !stopping.IsCompleted; i++)
            {
                await Task.WhenAny(stopping, Task.Delay(50));
                Clock.Advance(TimeSpan.FromSeconds(1));
            }
        }

        await stopping.Within(what: "the server to stop");
    }

    /// <summary>
    /// The connection of <paramref name="user"/> in the room, once the server has finished handling its login: from
    /// then on, on a fake clock, the connection's quiet time is what the test makes it.
    /// </summary>
    public async Task<Connection> SettledConnectionAsync(string user = "michael")
    {
        Connection? connection = null;
        await Networking.ExampleExchangeTests.WaitUntilAsync(() =>
            (connection = Room.Connections.FirstOrDefault(c => c.User.Name == user)) is not null && !IsDispatching(connection));
        return connection!;
    }

    /// <summary>When the server last heard anything from <paramref name="connection"/>, as a time stamp of its clock.</summary>
    public static long LastHeardFrom(Connection connection) => SessionOf(connection).Transport.LastReceivedTimestamp;

    /// <summary>Bytes queued for sending to <paramref name="connection"/> that its socket has not taken yet.</summary>
    public static long QueuedBytes(Connection connection) => SessionOf(connection).Transport.QueuedBytes;

    /// <summary>Whether the server has pinged <paramref name="connection"/> and not yet seen an answer.</summary>
    public static bool AwaitsPong(Connection connection) => SessionOf(connection).AwaitsPong;

    /// <summary>Whether the server is handling a batch from <paramref name="connection"/>, or waiting for the room's turn to.</summary>
    public static bool IsDispatching(Connection connection) => SessionOf(connection).IsDispatching;

    /// <summary>The session under a connection of this machine's server.</summary>
    public static Sessions.ServerSession SessionOf(Connection connection) => ((LocalConnection)connection).Session;

    public IEnumerable<LogEntry> Warnings => Log.Entries.Where(e => e.Level >= LogLevel.Warning);
}
