namespace Wevis.LoadTest.Servers;

/// <summary>The systems the load test puts side by side.</summary>
internal enum SystemKind
{
    /// <summary>Plain async sockets with length-prefixed 16-byte frames: the floor.</summary>
    Raw,

    /// <summary>Wevis: a server with one room, and Wevis clients.</summary>
    Wevis,

    /// <summary>ASP.NET Core SignalR with the MessagePack hub protocol over WebSockets on Kestrel.</summary>
    SignalR,

    /// <summary>gRPC bidirectional streaming on Kestrel (HTTP/2 without TLS), one stream per client.</summary>
    Grpc,
}

internal static class SystemNames
{
    public static string CommandName(this SystemKind system) => system.ToString().ToLowerInvariant();

    public static string DisplayName(this SystemKind system) => system switch
    {
        SystemKind.Raw => "raw TCP",
        SystemKind.Wevis => "Wevis",
        SystemKind.SignalR => "SignalR",
        SystemKind.Grpc => "gRPC",
        _ => system.ToString(),
    };

    public static bool TryParse(string name, out SystemKind system) => Enum.TryParse(name, ignoreCase: true, out system);
}
