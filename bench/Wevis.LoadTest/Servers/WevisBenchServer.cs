using Microsoft.Extensions.Logging;

namespace Wevis.LoadTest.Servers;

/// <summary>
/// A Wevis server whose rooms (<see cref="TimeRoom"/>) answer <c>WhatTimeIsIt</c> with <c>ItIs</c> and repeat a <c>Shout</c> to everyone in
/// the room as <c>Heard</c>; any user logs in with password "pw". The entry room is one such room; clients may
/// join or create rooms of the type <see cref="QuadRoomType"/>, which hold 4 users each (scenario g).
/// </summary>
internal sealed class WevisBenchServer : IBenchServer
{
    public const string Password = "pw";
    public const string Version = "bench";

    /// <summary>The room type of g)'s many small rooms.</summary>
    public const string QuadRoomType = "quad";

    /// <summary>How many users a <see cref="QuadRoomType"/> room holds.</summary>
    public const int QuadCapacity = 4;

    private Server? _server;

    public int Port => _server?.Port ?? 0;

    public async Task StartAsync(int port)
    {
        _server = new Server(
            static (username, password, salt, _) => Credentials.Verify(password, Password, salt) ? new User(username) : "wrong password",
            new TimeRoom(),
            new ServerOptions
            {
                Host = "127.0.0.1",
                Port = port,
                ListenBacklog = 4096,
                // The idle-clients scenario logs thousands in at once from one address.
                MaxPendingLogins = 4096,
                LoggerFactory = CreateLoggerFactory(),
            });
        _server.Rooms.Define(QuadRoomType, static () => new TimeRoom(), new RoomTypeOptions { Capacity = QuadCapacity });
        await _server.StartAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>With WEVIS_BENCH_LOG set to a level (Information, Debug…), the server logs to stderr; otherwise not at all.</summary>
    private static ILoggerFactory? CreateLoggerFactory() =>
        Enum.TryParse(Environment.GetEnvironmentVariable("WEVIS_BENCH_LOG"), out LogLevel level)
            ? LoggerFactory.Create(logging => logging.SetMinimumLevel(level).AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace))
            : null;
}
