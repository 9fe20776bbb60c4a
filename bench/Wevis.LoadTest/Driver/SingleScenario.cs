using System.Diagnostics;
using Wevis.LoadTest.Clients;
using Wevis.LoadTest.Servers;

namespace Wevis.LoadTest.Driver;

/// <summary>
/// <c>single &lt;system&gt; &lt;rtt|pipelined|clients|clients-N|rooms-N|fanout-N-W&gt; [--seconds N]</c>: one scenario against one
/// system's server, for as long as asked, printing its figure; for profiling (attach a profiler to the printed server
/// pid). <c>clients-N</c>: c) with N clients instead of 100; <c>rooms-N</c>: g)'s broadcast with N clients in rooms
/// (groups, for raw TCP) of four.
/// </summary>
internal static class SingleScenario
{
    public static async Task<int> RunAsync(SystemKind system, string scenario, TimeSpan duration)
    {
        int clients = 0;
        int window = 0;
        if (scenario.Split('-') is ["fanout", string clientCount, string inFlight])
        {
            (scenario, clients, window) = ("fanout", int.Parse(clientCount), int.Parse(inFlight));
        }
        else if (scenario.Split('-') is ["clients", string activeCount])
        {
            (scenario, clients) = ("clients", int.Parse(activeCount));
        }
        else if (scenario.Split('-') is ["rooms", string roomClients])
        {
            (scenario, clients) = ("rooms", int.Parse(roomClients));
        }

        int groupSize = scenario == "rooms" && system == SystemKind.Raw ? WevisBenchServer.QuadCapacity : 0;
        await using ServerProcess server = await ServerProcess.StartAsync(system, duration + TimeSpan.FromMinutes(1), groupSize);
        Console.WriteLine($"server pid {server.ProcessId}, port {server.Port}");
        switch (scenario)
        {
            case "rtt":
            {
                await using IBenchClient client = await BenchClients.ConnectAsync(system, server.Port, "single");
                var samples = new LatencySamples(1 << 16);
                long end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
                while (Stopwatch.GetTimestamp() < end)
                {
                    long start = Stopwatch.GetTimestamp();
                    await client.RoundTripAsync();
                    samples.Add(Stopwatch.GetTimestamp() - start);
                }

                Console.WriteLine($"{samples.Count:N0} round trips: p50 {samples.PercentileMicroseconds(50):N1} µs, p99 {samples.PercentileMicroseconds(99):N1} µs");
                break;
            }

            case "pipelined":
            {
                await using IBenchClient client = await BenchClients.ConnectAsync(system, server.Port, "single");
                var replies = new ReplyCounter();
                using var stop = new CancellationTokenSource();
                TimeSpan serverCpu = server.ProcessorTime;
                TimeSpan driverCpu = Process.GetCurrentProcess().TotalProcessorTime;
                long allocated = GC.GetTotalAllocatedBytes(precise: true);
                long serverAllocated = await server.AllocatedBytesAsync();
                Task running = client.PipelineAsync(1_000, replies, stop.Token);
                long start = Stopwatch.GetTimestamp();
                await Task.Delay(duration);
                long count = replies.Value;
                double perSecond = count / Stopwatch.GetElapsedTime(start).TotalSeconds;
                Console.WriteLine($"{perSecond:N0} replies/s; CPU per reply: server {(server.ProcessorTime - serverCpu).TotalNanoseconds / count:N0} ns, "
                    + $"client {(Process.GetCurrentProcess().TotalProcessorTime - driverCpu).TotalNanoseconds / count:N0} ns; "
                    + $"allocations per reply: client {(GC.GetTotalAllocatedBytes(precise: true) - allocated) / (double)count:N0} B, "
                    + $"server {(await server.AllocatedBytesAsync() - serverAllocated) / (double)count:N0} B");
                stop.Cancel();
                await Task.WhenAny(running, Task.Delay(5_000));
                break;
            }

            case "clients":
            {
                var settings = LoadTestSettings.Full with { ClientsWarmup = TimeSpan.FromSeconds(1), ClientsMeasure = duration };
                settings = clients > 0 ? settings with { Clients = clients } : settings;
                (TimeSpan serverCpu, TimeSpan serverUser) = (server.ProcessorTime, server.UserProcessorTime);
                (TimeSpan driverCpu, TimeSpan driverUser) = (Process.GetCurrentProcess().TotalProcessorTime, Process.GetCurrentProcess().UserProcessorTime);
                long serverAllocated = await server.AllocatedBytesAsync();
                (long serverWorkItems, long driverWorkItems) = (await server.CompletedWorkItemsAsync(), ThreadPool.CompletedWorkItemCount);
                (double perSecond, double p99) = await new Scenarios(settings, new RunResults(), Console.Out).ActiveClientsAsync(system, server.Port, "active");
                double roundTrips = perSecond * (duration.TotalSeconds + 1);
                Console.WriteLine($"server allocations per round trip (approx.): {(await server.AllocatedBytesAsync() - serverAllocated) / roundTrips:N0} B");

                // Each thread-pool work item is a hop: a socket completion, or a continuation queued elsewhere.
                Console.WriteLine($"thread-pool work items per round trip (approx.): server {(await server.CompletedWorkItemsAsync() - serverWorkItems) / roundTrips:N2}, "
                    + $"clients {(ThreadPool.CompletedWorkItemCount - driverWorkItems) / roundTrips:N2}");

                // The user-mode part is what our code and the runtime add to the kernel's socket work (c) is bound by CPU).
                Console.WriteLine($"{perSecond:N0} round trips/s, p99 {p99:N0} µs, server peak RSS {server.PeakResidentBytes / 1048576.0:N1} MiB; "
                    + $"CPU per round trip (approx.): server {(server.ProcessorTime - serverCpu).TotalMicroseconds / roundTrips:N1} µs "
                    + $"({(server.UserProcessorTime - serverUser).TotalMicroseconds / roundTrips:N1} in user mode), "
                    + $"clients {(Process.GetCurrentProcess().TotalProcessorTime - driverCpu).TotalMicroseconds / roundTrips:N1} µs "
                    + $"({(Process.GetCurrentProcess().UserProcessorTime - driverUser).TotalMicroseconds / roundTrips:N1} in user mode)");
                break;
            }

            case "fanout":
            {
                // f) with one room size and window: fanout-<clients>-<window>, e.g. fanout-1000-16.
                var settings = LoadTestSettings.Full with { FanOutWindows = [window], FanOutMeasure = duration };
                await new Scenarios(settings, new RunResults(), Console.Out).FanOutAsync(server, clients);
                break;
            }

            case "rooms" when system is SystemKind.Raw or SystemKind.Wevis:
            {
                // g)'s broadcast with one room size: rooms-<clients>, e.g. rooms-4000 (1,000 rooms of four).
                var settings = LoadTestSettings.Full with { ClientsWarmup = TimeSpan.FromSeconds(1), ClientsMeasure = duration };
                (TimeSpan Server, TimeSpan Clients) cpuAtStart = default;
                (TimeSpan Server, TimeSpan Clients) cpuAtEnd = default;
                (double perSecond, double p99, double deliveries) = await new Scenarios(settings, new RunResults(), Console.Out).BroadcastInRoomsAsync(
                    server,
                    clients,
                    starts =>
                    {
                        (TimeSpan, TimeSpan) now = (server.ProcessorTime, Process.GetCurrentProcess().TotalProcessorTime);
                        if (starts)
                        {
                            cpuAtStart = now;
                        }
                        else
                        {
                            cpuAtEnd = now;
                        }
                    });
                double roundTrips = perSecond * duration.TotalSeconds;
                Console.WriteLine($"{perSecond:N0} round trips/s ({deliveries:N0} deliveries/s), p99 {p99 / 1000:N2} ms; CPU per round trip (approx.): "
                    + $"server {(cpuAtEnd.Server - cpuAtStart.Server).TotalMicroseconds / roundTrips:N1} µs, clients {(cpuAtEnd.Clients - cpuAtStart.Clients).TotalMicroseconds / roundTrips:N1} µs");
                break;
            }

            default:
                Console.Error.WriteLine($"Unknown scenario '{scenario}': rtt, pipelined, clients, clients-<clients>, rooms-<clients> (raw or wevis) or fanout-<clients>-<in flight>.");
                return 2;
        }

        return 0;
    }
}
