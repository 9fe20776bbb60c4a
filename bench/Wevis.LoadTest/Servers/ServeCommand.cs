using System.Runtime;

namespace Wevis.LoadTest.Servers;

/// <summary>
/// <c>serve &lt;system&gt; [--port N] [--lifetime SECONDS] [--group N]</c>: runs one system's server in this process, prints
/// <c>port N</c> on stdout, then follows commands on stdin until it closes (or the lifetime runs out):
/// <c>gc</c> runs a full compacting collection and answers <c>ok LIVE COMMITTED</c> (the managed heap's live bytes
/// after it, and the bytes the collector has committed); <c>allocated</c> answers the bytes allocated so far.
/// <c>--group N</c> (raw only): shouts go to groups of N connections in the order accepted, not to all.
/// </summary>
internal static class ServeCommand
{
    public static async Task<int> RunAsync(SystemKind system, int port, TimeSpan lifetime, int groupSize = 0)
    {
        // A failure inside a server that closes a connection without a trace would otherwise go unseen.
        TaskScheduler.UnobservedTaskException += (_, e) => Console.Error.WriteLine($"{system} server: unobserved task exception: {e.Exception}");
        IBenchServer server = system switch
        {
            SystemKind.Raw => new RawServer(groupSize),
            SystemKind.Wevis => new WevisBenchServer(),
            SystemKind.SignalR => SignalRBenchServer.Create(),
            SystemKind.Grpc => GrpcBenchServer.Create(),
            _ => throw new ArgumentOutOfRangeException(nameof(system)),
        };
        try
        {
            return await ServeAsync(system, server, port, lifetime);
        }
        finally
        {
            await server.DisposeAsync();

            // Connection tasks that failed unexpectedly surface as unobserved exceptions once collected.
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }

    private static async Task<int> ServeAsync(SystemKind system, IBenchServer server, int port, TimeSpan lifetime)
    {
        await server.StartAsync(port);

        // Bounded: a server whose driver vanished stops by itself.
        using var deadline = new Timer(static _ => Environment.Exit(3), null, lifetime, Timeout.InfiniteTimeSpan);
        Console.Out.WriteLine($"port {server.Port}");
        Console.Out.Flush();

        await Task.Run(() =>
        {
            while (Console.In.ReadLine() is { } command)
            {
                if (command == "gc")
                {
                    GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
                    GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                    GC.WaitForPendingFinalizers();
                    GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                    GCMemoryInfo heap = GC.GetGCMemoryInfo(GCKind.FullBlocking);
                    Console.Out.WriteLine($"ok {heap.HeapSizeBytes - heap.FragmentedBytes} {heap.TotalCommittedBytes}");
                    Console.Out.Flush();
                }
                else if (command == "allocated")
                {
                    Console.Out.WriteLine(GC.GetTotalAllocatedBytes(precise: true));
                    Console.Out.Flush();
                }
                else if (command == "workitems")
                {
                    Console.Out.WriteLine(ThreadPool.CompletedWorkItemCount);
                    Console.Out.Flush();
                }
            }
        });
        return 0;
    }
}
