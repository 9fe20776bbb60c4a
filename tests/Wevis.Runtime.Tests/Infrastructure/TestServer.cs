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

    private TestServer(Server server, TimeRoom room, TestLog log, InMemoryServer? inMemory = null)
    {
        Server = server;
        Room = room;
        Log = log;
        _inMemory = inMemory;
    }

    public Server Server { get; }

    public TimeRoom Room { get; }

    public TestLog Log { get; }

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

    public static async Task<TestServer> StartAsync(Action<ServerOptions>? configure = null, TimeRoom? room = null, AsyncLoginValidator? validator = null)
    {
        var log = new TestLog();
        var options = new ServerOptions
        {
            Host = "127.0.0.1",
            Port = 0,
            LoggerFactory = log,
            StopTimeout = TimeSpan.FromSeconds(2),
        };
        configure?.Invoke(options);
        room ??= new TimeRoom();
        Server server = validator is null ? new Server(Validate, room, options) : new Server(validator, room, options);
        await server.StartAsync();
        return new TestServer(server, room, log);
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
        return Task.FromResult(new TestServer(server.Server, room, log, server));
    }

    public Client CreateClient(string username = "michael", string password = "mypassword", string version = Version, Action<ClientOptions>? configure = null)
    {
        var options = new ClientOptions { LoggerFactory = Log, ConnectTimeout = TimeSpan.FromSeconds(10) };
        configure?.Invoke(options);
        return _inMemory is not null
            ? _inMemory.CreateClient(username, password, version, options)
            : new Client(username, password, version, "127.0.0.1", Port, options);
    }

    /// <summary>A client that has logged in and received the room's <c>ServerReady</c>.</summary>
    public async Task<Client> ConnectAsync(string username = "michael", string password = "mypassword")
    {
        Client client = CreateClient(username, password);
        await client.ConnectAsync();
        await client.ReceiveAsync<Example.ServerReady>();
        return client;
    }

    public RawPeer CreateRawPeer() => RawPeer.Connect(Port);

    public async ValueTask DisposeAsync()
    {
        await Server.StopAsync();
    }

    public IEnumerable<LogEntry> Warnings => Log.Entries.Where(e => e.Level >= LogLevel.Warning);
}
