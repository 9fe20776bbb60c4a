using Wevis.LoadTest.Servers;

namespace Wevis.LoadTest.Clients;

/// <summary>Connects a client of a given system.</summary>
internal static class BenchClients
{
    public static async Task<IBenchClient> ConnectAsync(SystemKind system, int port, string name) => system switch
    {
        SystemKind.Raw => await RawBenchClient.ConnectAsync(port).ConfigureAwait(false),
        SystemKind.Wevis => await WevisBenchClient.ConnectAsync(port, name).ConfigureAwait(false),
        SystemKind.SignalR => await SignalRBenchClient.ConnectAsync(port).ConfigureAwait(false),
        SystemKind.Grpc => await GrpcBenchClient.ConnectAsync(port).ConfigureAwait(false),
        _ => throw new ArgumentOutOfRangeException(nameof(system)),
    };
}
