using System.Diagnostics;
using Wevis.LoadTest.Driver;

namespace Wevis.ClusterBench;

/// <summary>
/// This process as the "server" the load test's f) meters: here the single server, both silos and every client share
/// it, so its CPU and allocations per delivery are the whole system's. The clients' share is the same for each target,
/// so the differences between targets are what the server side costs.
/// </summary>
internal sealed class ProcessMeter : IServerMeter
{
    public TimeSpan ProcessorTime
    {
        get
        {
            using Process self = Process.GetCurrentProcess();
            return self.TotalProcessorTime;
        }
    }

    public Task<long> AllocatedBytesAsync() => Task.FromResult(GC.GetTotalAllocatedBytes());
}
