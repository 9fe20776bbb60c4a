using System.Diagnostics.Metrics;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Wevis;

/// <summary>Settings for a <see cref="Server"/>. Every setting has a default; they are checked once, when the server starts.</summary>
public sealed class ServerOptions
{
    /// <summary>The default port, as in the original module.</summary>
    public const int DefaultPort = 12121;

    /// <summary>The address or host name to listen on. Default null: every interface (IPv4 and IPv6).</summary>
    public string? Host { get; set; }

    /// <summary>The TCP port to listen on. Default 12121; 0 picks a free port, reported by <see cref="Server.Port"/>.</summary>
    public int Port { get; set; } = DefaultPort;

    /// <summary>The message types the server speaks. Default null: <see cref="MessageRegistry.Default"/> when the server starts.</summary>
    public MessageRegistry? Messages { get; set; }

    /// <summary>How long a new connection has to finish logging in, TLS included. Default 5 seconds.</summary>
    public TimeSpan LoginTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How many connections one user (by <see cref="User.Name"/>) may have open at once. Default 1.</summary>
    public int MaxConnectionsPerUser { get; set; } = 1;

    /// <summary>
    /// How many connections may be logging in at once; more are closed as soon as they are accepted, so many idle
    /// sockets cannot starve real users. Default 1,000.
    /// </summary>
    public int MaxPendingLogins { get; set; } = 1_000;

    /// <summary>How long a connection may be quiet before the server pings it. Default 10 seconds.</summary>
    public TimeSpan PingInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long the server waits for any answer to a ping before it drops the connection. Default 5 seconds.</summary>
    public TimeSpan PingTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The largest message body, in bytes, accepted from or sent to a logged-in client. Default 1 MiB.</summary>
    public int MaxFrameSize { get; set; } = 1024 * 1024;

    /// <summary>The largest frame accepted before a client has logged in. Default 4 KiB: a login is small.</summary>
    public int MaxLoginFrameSize { get; set; } = 4 * 1024;

    /// <summary>
    /// The most bytes that may wait to be sent to one connection. A client that does not read its socket while the
    /// server sends to it fills this queue; the server then drops that connection (logging why) rather than buffer
    /// without bound. Default 16 MiB; at least <see cref="MaxFrameSize"/> plus the 4-byte length prefix. On a cluster
    /// (Wevis.Orleans, a silo's gateway settings) it also bounds what a room on that silo holds for one gateway whose
    /// calls fail or time out: past it the room ends the stays of that gateway's users there, and their sessions close
    /// with the reason.
    /// </summary>
    public long MaxQueuedBytesPerConnection { get; set; } = 16L * 1024 * 1024;

    /// <summary>
    /// How many failed logins one IP address may make within <see cref="FailedLoginWindow"/> before its further
    /// logins are refused (without asking the validator) until the window has passed. Default 10; 0 turns it off.
    /// Logins from the address that the validator is checking count too, so logins sent at once cannot slip past
    /// it: at most this many of an address's logins are checked at a time, and the rest wait their turn. (A login
    /// whose validator ignores its cancellation ends at the login timeout and stops counting; the validator's own
    /// work may go on.)
    /// </summary>
    public int MaxFailedLoginsPerAddress { get; set; } = 10;

    /// <summary>The window over which failed logins from one address are counted. Default 1 minute.</summary>
    public TimeSpan FailedLoginWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// A certificate (with its private key) to serve TLS with. Default null: no encryption. Clients must then set
    /// <see cref="ClientOptions.UseTls"/>.
    /// </summary>
    public X509Certificate2? Certificate { get; set; }

    /// <summary>
    /// How long the server keeps a resumable session (one whose client asked for it, <see cref="ClientOptions.ResumeSessions"/>)
    /// after its connection was lost: the user stays in their room (which sees <c>OnUserDropped</c>), and a client that
    /// comes back with the session's token within this time gets it back, with every message the other side had not
    /// handled. After it, the user leaves as for a closed connection. Default 30 seconds; zero turns resuming off
    /// (clients that ask get an ordinary session).
    /// </summary>
    public TimeSpan ResumeGracePeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// On a resumable session, the most bytes of sent messages the server keeps until the client acknowledges them
    /// (they are what is replayed on a resume). A session over it can no longer be resumed: if its connection is lost,
    /// or while it is, the user leaves. Default 4 MiB; at least <see cref="MaxFrameSize"/> plus 4.
    /// </summary>
    public long MaxUnacknowledgedBytes { get; set; } = 4L * 1024 * 1024;

    /// <summary>
    /// On a resumable session, how long sent messages may wait for the client's acknowledgement (a connected client
    /// acknowledges within about a second) before the session can no longer be resumed. Time spent disconnected does
    /// not count: a resume starts the wait again. Default 1 minute.
    /// </summary>
    public TimeSpan MaxUnacknowledgedAge { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>When stopping, how long to let queued messages go out before connections are cut. Default 5 seconds.</summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The length of the operating system's queue of connections not yet accepted. Default 512.</summary>
    public int ListenBacklog { get; set; } = 512;

    /// <summary>Where the server logs. Default null: nothing is logged.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// Makes the meter the server's metrics are published on (<see cref="WevisDiagnostics.MeterName"/>): the host's,
    /// under the Generic Host. Default null: the server makes its own meter, and disposes it when it stops.
    /// </summary>
    public IMeterFactory? MeterFactory { get; set; }

    /// <summary>
    /// The most rooms the server holds at once, the entry room included; creating more is refused. Bounds what
    /// clients asking for new rooms can make the server hold. Default 10,000.
    /// </summary>
    public int MaxRooms { get; set; } = 10_000;

    /// <summary>
    /// The clock the server's timeouts, keep-alive, login throttle, room ticks and room timers run on. Default
    /// <see cref="TimeProvider.System"/>; tests pass a fake one to drive time without waiting.
    /// </summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Where <see cref="PersistentRoom{TState}"/>s keep their state between lives (a <see cref="MemoryRoomStateStore"/>, say); null (the default): nowhere.</summary>
    public IRoomStateStore? RoomStateStore { get; set; }

    /// <summary>Throws if a setting is out of range.</summary>
    internal void Validate()
    {
        Require(Port is >= 0 and <= 65535, nameof(Port), "must be between 0 and 65535");
        Require(LoginTimeout > TimeSpan.Zero, nameof(LoginTimeout), "must be positive");
        Require(MaxConnectionsPerUser >= 1, nameof(MaxConnectionsPerUser), "must be at least 1");
        Require(MaxPendingLogins >= 1, nameof(MaxPendingLogins), "must be at least 1");
        Require(PingInterval > TimeSpan.Zero, nameof(PingInterval), "must be positive");
        Require(PingTimeout > TimeSpan.Zero, nameof(PingTimeout), "must be positive");
        Require(MaxFrameSize >= 64, nameof(MaxFrameSize), "must be at least 64 bytes");
        Require(MaxLoginFrameSize is >= 256, nameof(MaxLoginFrameSize), "must be at least 256 bytes");
        Require(MaxQueuedBytesPerConnection >= MaxFrameSize + 4L, nameof(MaxQueuedBytesPerConnection), "must be at least MaxFrameSize + 4");
        Require(MaxFailedLoginsPerAddress >= 0, nameof(MaxFailedLoginsPerAddress), "must not be negative");
        Require(FailedLoginWindow > TimeSpan.Zero, nameof(FailedLoginWindow), "must be positive");
        Require(StopTimeout >= TimeSpan.Zero, nameof(StopTimeout), "must not be negative");
        Require(ListenBacklog >= 1, nameof(ListenBacklog), "must be at least 1");
        Require(Certificate is null || Certificate.HasPrivateKey, nameof(Certificate), "must have its private key");
        Require(ResumeGracePeriod >= TimeSpan.Zero, nameof(ResumeGracePeriod), "must not be negative");
        Require(MaxUnacknowledgedBytes >= MaxFrameSize + 4L, nameof(MaxUnacknowledgedBytes), "must be at least MaxFrameSize + 4");
        Require(MaxUnacknowledgedAge > TimeSpan.Zero, nameof(MaxUnacknowledgedAge), "must be positive");
        Require(MaxRooms >= 1, nameof(MaxRooms), "must be at least 1");
        Require(TimeProvider is not null, nameof(TimeProvider), "must not be null");
    }

    private static void Require(bool condition, string name, string rule)
    {
        if (!condition)
        {
            throw new ArgumentOutOfRangeException(name, $"ServerOptions.{name} {rule}.");
        }
    }
}
