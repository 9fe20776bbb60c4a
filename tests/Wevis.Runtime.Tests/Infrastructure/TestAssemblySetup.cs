using System.Runtime.CompilerServices;

namespace Wevis.Runtime.Tests.Infrastructure;

/// <summary>Process-wide settings for the test run.</summary>
internal static class TestAssemblySetup
{
    /// <summary>
    /// The test host keeps some thread-pool threads blocked in its own message loop. On a 2-core machine the pool
    /// starts with 2 threads, so the servers under test would wait the pool's ~0.5 s thread injection delay for
    /// timers and socket completions (measured: a 150 ms ping interval stretched to 800 ms under the test host,
    /// not in a plain console process). More threads up front removes that artefact of the host.
    /// </summary>
    [ModuleInitializer]
    internal static void RaiseThreadPoolMinimum()
    {
        ThreadPool.GetMinThreads(out int workers, out int completionPorts);
        ThreadPool.SetMinThreads(Math.Max(workers, 32), Math.Max(completionPorts, 32));
    }
}
