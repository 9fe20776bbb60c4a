namespace Wevis.LoadTest.Servers;

/// <summary>One system's server, run in its own process by <c>serve &lt;system&gt;</c>.</summary>
internal interface IBenchServer : IAsyncDisposable
{
    /// <summary>The port it listens on, once started.</summary>
    int Port { get; }

    /// <summary>Starts listening on 127.0.0.1 at <paramref name="port"/> (0: a free port).</summary>
    Task StartAsync(int port);
}
