using System.Net.Security;
using Microsoft.Extensions.Logging;

namespace Wevis;

/// <summary>Settings for a <see cref="Client"/>. Every setting has a default; they are checked when the client connects.</summary>
public sealed class ClientOptions
{
    /// <summary>The message types the client speaks. Default null: <see cref="MessageRegistry.Default"/> when it connects.</summary>
    public MessageRegistry? Messages { get; set; }

    /// <summary>How long connecting, TLS and logging in may take together. Default 10 seconds.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// If nothing at all arrives from the server for this long, the connection is taken as lost (the server pings
    /// quiet connections, so a live one is never silent this long). Default 30 seconds; <see cref="Timeout.InfiniteTimeSpan"/> turns it off.
    /// </summary>
    public TimeSpan ServerTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long <see cref="Client.RequestAsync{TReply}(IRequest{TReply}, CancellationToken)"/> waits for the reply before
    /// it throws <see cref="TimeoutException"/>, unless the call gives its own. Default 30 seconds;
    /// <see cref="Timeout.InfiniteTimeSpan"/> waits as long as the connection is open.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The largest message body, in bytes, accepted from or sent to the server. Default 1 MiB.</summary>
    public int MaxFrameSize { get; set; } = 1024 * 1024;

    /// <summary>The most bytes that may wait to be sent before the connection is dropped. Default 16 MiB.</summary>
    public long MaxQueuedBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>Whether to speak TLS (the server must have <see cref="ServerOptions.Certificate"/>). Default false.</summary>
    public bool UseTls { get; set; }

    /// <summary>The name the server's certificate must carry. Default null: the host the client connects to.</summary>
    public string? TlsTargetHost { get; set; }

    /// <summary>
    /// Decides whether to trust the server's certificate. Default null: the system's validation (a trusted chain
    /// and a matching name). Set it to pin a self-signed certificate, for example.
    /// </summary>
    public RemoteCertificateValidationCallback? ServerCertificateValidation { get; set; }

    /// <summary>Where the client logs. Default null: nothing is logged.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// The clock the connect timeout, the watch for a silent server and receive timeouts run on. Default
    /// <see cref="TimeProvider.System"/>; tests pass a fake one to drive time without waiting.
    /// </summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Whether the session survives a lost connection: the client asks the server for a resumable session at login,
    /// and when the connection is lost (not when the server or the client closes it) it reconnects by itself, with
    /// backoff, and resumes: same user, same room, and every message either side had not handled is delivered once, in
    /// order. Meanwhile sends are kept (up to <see cref="MaxUnacknowledgedBytes"/>) and receives simply wait. Default
    /// false: a resumed session changes what a drop means to room code (a leave only after the server's grace period),
    /// so it is something to turn on knowingly. A server older than this feature refuses such a client's login.
    /// </summary>
    public bool ResumeSessions { get; set; }

    /// <summary>With <see cref="ResumeSessions"/>: the delay before the first reconnect attempt; each next one doubles it, with jitter, up to <see cref="MaxReconnectDelay"/>. Default 100 ms.</summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>With <see cref="ResumeSessions"/>: the longest delay between reconnect attempts. Default 5 seconds.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// With <see cref="ResumeSessions"/>: how long the client keeps trying to resume before it gives up (the session
    /// then ends as a closed connection does). An attempt under way when it ends is cut short (each attempt may take
    /// <see cref="ConnectTimeout"/> or what is left of this, whichever is less), so <see cref="Client.GaveUp"/> comes
    /// when it ends. Default 30 seconds, the server's default grace period.
    /// </summary>
    public TimeSpan ReconnectTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// With <see cref="ResumeSessions"/>: the most bytes of sent messages kept until the server acknowledges them
    /// (sends while disconnected included). Over it the session can no longer be resumed. Default 4 MiB.
    /// </summary>
    public long MaxUnacknowledgedBytes { get; set; } = 4L * 1024 * 1024;

    /// <summary>
    /// With <see cref="ResumeSessions"/>: how long sent messages may wait for the server's acknowledgement while
    /// connected before the session can no longer be resumed. Default 1 minute.
    /// </summary>
    public TimeSpan MaxUnacknowledgedAge { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Whether the client receives on a thread of its own instead of the thread pool. Default false. Set it in a client
    /// that wants the shortest round trips and holds one or a few connections (a game's client): when a message arrives
    /// the kernel wakes that thread directly, where the thread pool's receive waits for the runtime's socket event
    /// thread to wake it, one wake-up more. On the load test's two-core machine that cut a round trip's median by
    /// about a quarter (bench/README.md). Each connection then keeps a thread (and its stack) while open, so leave
    /// it off in a process that holds hundreds of clients. What continues from <see cref="Client.ReceiveAsync(CancellationToken)"/>
    /// runs on that thread, as it otherwise runs on the receive loop's pool thread. Ignored with <see cref="UseTls"/>.
    /// </summary>
    public bool DedicatedReceiveThread { get; set; }

    /// <summary>
    /// Opens the connection's stream instead of a TCP connection to the host and port: Wevis.Testing's in-memory
    /// connections. Default null: TCP (and TLS, if <see cref="UseTls"/>).
    /// </summary>
    internal Func<CancellationToken, ValueTask<Stream>>? Connector { get; set; }

    internal void Validate()
    {
        Require(ConnectTimeout > TimeSpan.Zero, nameof(ConnectTimeout), "must be positive");
        Require(ServerTimeout > TimeSpan.Zero || ServerTimeout == Timeout.InfiniteTimeSpan, nameof(ServerTimeout), "must be positive or infinite");
        Require(RequestTimeout > TimeSpan.Zero || RequestTimeout == Timeout.InfiniteTimeSpan, nameof(RequestTimeout), "must be positive or infinite");
        Require(MaxFrameSize >= 64, nameof(MaxFrameSize), "must be at least 64 bytes");
        Require(MaxQueuedBytes >= MaxFrameSize + 4L, nameof(MaxQueuedBytes), "must be at least MaxFrameSize + 4");
        Require(TimeProvider is not null, nameof(TimeProvider), "must not be null");
        Require(ReconnectDelay > TimeSpan.Zero, nameof(ReconnectDelay), "must be positive");
        Require(MaxReconnectDelay >= ReconnectDelay, nameof(MaxReconnectDelay), "must be at least ReconnectDelay");
        Require(ReconnectTimeout > TimeSpan.Zero, nameof(ReconnectTimeout), "must be positive");
        Require(MaxUnacknowledgedBytes >= MaxFrameSize + 4L, nameof(MaxUnacknowledgedBytes), "must be at least MaxFrameSize + 4");
        Require(MaxUnacknowledgedAge > TimeSpan.Zero, nameof(MaxUnacknowledgedAge), "must be positive");
    }

    private static void Require(bool condition, string name, string rule)
    {
        if (!condition)
        {
            throw new ArgumentOutOfRangeException(name, $"ClientOptions.{name} {rule}.");
        }
    }
}
