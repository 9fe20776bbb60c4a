namespace Wevis.LoadTest.Driver;

/// <summary>
/// What a scenario reads of the server it measures: its CPU time and what it has allocated. The load test's servers
/// are other processes (<see cref="ServerProcess"/>); the cluster benchmark's run in its own process.
/// </summary>
internal interface IServerMeter
{
    /// <summary>The server's CPU time so far (user and system).</summary>
    TimeSpan ProcessorTime { get; }

    /// <summary>The bytes the server has allocated on the managed heap so far.</summary>
    Task<long> AllocatedBytesAsync();
}
