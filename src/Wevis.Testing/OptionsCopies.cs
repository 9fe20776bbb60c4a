namespace Wevis.Testing;

/// <summary>
/// Copies of the options a test passes to <see cref="InMemoryServer"/>, which it then sets up for memory (the server's
/// clock, a client's pipe) without touching the caller's: one options object can serve several servers and clients.
/// </summary>
/// <remarks>Every setting is copied; a test in Wevis.Runtime.Tests fails when a setting is added and not copied here.</remarks>
internal static class OptionsCopies
{
    public static ServerOptions Copy(ServerOptions options) => new()
    {
        Host = options.Host,
        Port = options.Port,
        Messages = options.Messages,
        LoginTimeout = options.LoginTimeout,
        MaxConnectionsPerUser = options.MaxConnectionsPerUser,
        MaxPendingLogins = options.MaxPendingLogins,
        PingInterval = options.PingInterval,
        PingTimeout = options.PingTimeout,
        MaxFrameSize = options.MaxFrameSize,
        MaxLoginFrameSize = options.MaxLoginFrameSize,
        MaxQueuedBytesPerConnection = options.MaxQueuedBytesPerConnection,
        MaxFailedLoginsPerAddress = options.MaxFailedLoginsPerAddress,
        FailedLoginWindow = options.FailedLoginWindow,
        Certificate = options.Certificate,
        ResumeGracePeriod = options.ResumeGracePeriod,
        MaxUnacknowledgedBytes = options.MaxUnacknowledgedBytes,
        MaxUnacknowledgedAge = options.MaxUnacknowledgedAge,
        StopTimeout = options.StopTimeout,
        ListenBacklog = options.ListenBacklog,
        LoggerFactory = options.LoggerFactory,
        MeterFactory = options.MeterFactory,
        MaxRooms = options.MaxRooms,
        TimeProvider = options.TimeProvider,
        RoomStateStore = options.RoomStateStore,
    };

    public static ClientOptions Copy(ClientOptions options) => new()
    {
        Messages = options.Messages,
        ConnectTimeout = options.ConnectTimeout,
        ServerTimeout = options.ServerTimeout,
        RequestTimeout = options.RequestTimeout,
        MaxFrameSize = options.MaxFrameSize,
        MaxQueuedBytes = options.MaxQueuedBytes,
        UseTls = options.UseTls,
        TlsTargetHost = options.TlsTargetHost,
        ServerCertificateValidation = options.ServerCertificateValidation,
        LoggerFactory = options.LoggerFactory,
        TimeProvider = options.TimeProvider,
        ResumeSessions = options.ResumeSessions,
        ReconnectDelay = options.ReconnectDelay,
        MaxReconnectDelay = options.MaxReconnectDelay,
        ReconnectTimeout = options.ReconnectTimeout,
        MaxUnacknowledgedBytes = options.MaxUnacknowledgedBytes,
        MaxUnacknowledgedAge = options.MaxUnacknowledgedAge,
        DedicatedReceiveThread = options.DedicatedReceiveThread,
        Connector = options.Connector,
    };
}
