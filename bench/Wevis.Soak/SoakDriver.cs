using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Wevis.Soak.Messages;
using Wevis.Tests.Shared;

namespace Wevis.Soak;

/// <summary>
/// Starts the server process, runs the clients with churn for the set time, and reports: messages exchanged,
/// connections made, errors by kind, and the server's memory at the start and at the end.
/// </summary>
internal static class SoakDriver
{
    public static async Task<int> RunAsync(SoakOptions options)
    {
        using Process server = StartServer(out int serverPort);
        await using FaultProxy? proxy = options.FaultEvery > 0
            ? new FaultProxy(serverPort, FaultProxy.RandomPlan(options.Seed, options.FaultEvery * (options.PayloadBytes + 16L), FaultKind.Reset, FaultKind.Close, FaultKind.Reset, FaultKind.Close, FaultKind.BlackHole))
            : null;
        int port = proxy?.Port ?? serverPort;
        try
        {
            ServerStats start = await QueryAsync(server);
            Console.WriteLine($"Soak: {options.Clients} clients for {options.Duration.TotalMinutes:0.##} min against the server at 127.0.0.1:{port} (pid {server.Id}); "
                + $"each connection exchanges 1-{options.MaxMessagesPerConnection} messages of {options.PayloadBytes} bytes, then disconnects."
                + (proxy is null ? string.Empty : $" Through a fault proxy breaking connections every {options.FaultEvery} messages on average; clients resume."));

            var totals = new Totals();
            using var stop = new CancellationTokenSource(options.Duration);
            Task[] clients = [.. Enumerable.Range(0, options.Clients).Select(i => Task.Run(() => RunClientAsync(i, port, options, totals, stop.Token)))];
            Task progress = ReportProgressAsync(server, totals, stop.Token);
            await Task.WhenAll(clients);
            await progress;

            // Let the server finish closing the last connections (and the grace period of sessions never resumed), then measure.
            ServerStats end = await QueryAsync(server);
            for (int i = 0; i < 200 && (end.Connections > 0 || end.InRoom > 0); i++)
            {
                await Task.Delay(100);
                end = await QueryAsync(server);
            }

            PrintReport(options, start, end, totals, proxy);
            return totals.Errors == 0 && end.Connections == 0 && end.InRoom == 0 ? 0 : 1;
        }
        finally
        {
            await server.StandardInput.WriteLineAsync("quit");
            if (!server.WaitForExit(TimeSpan.FromSeconds(15)))
            {
                server.Kill();
            }
        }
    }

    private static async Task RunClientAsync(int index, int port, SoakOptions options, Totals totals, CancellationToken stop)
    {
        var random = new Random(options.Seed * 100_003 + index);
        byte[] payload = new byte[options.PayloadBytes];
        random.NextBytes(payload);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                bool faults = options.FaultEvery > 0;
                await using var client = new Client($"soak{index}", SoakServer.Password, "1", "127.0.0.1", port, new ClientOptions
                {
                    Messages = WevisRegistry.Messages,
                    ResumeSessions = faults,
                    ServerTimeout = faults ? TimeSpan.FromSeconds(3) : TimeSpan.FromSeconds(30),
                    ReconnectDelay = TimeSpan.FromMilliseconds(20),
                    MaxReconnectDelay = TimeSpan.FromMilliseconds(500),
                });
                client.Resumed += (_, e) =>
                {
                    Interlocked.Increment(ref totals.Resumes);
                    Interlocked.Add(ref totals.Replayed, e.Replayed);
                };
                try
                {
                    await client.ConnectAsync(stop);
                }
                catch (WevisException) when (faults)
                {
                    // The first login cut by the proxy: nothing to resume yet; connect again (an app would too).
                    Interlocked.Increment(ref totals.FirstLoginsCut);
                    continue;
                }

                Interlocked.Increment(ref totals.Connections);

                // Up to 16 messages in flight; every reply must come back in order with its payload.
                int count = random.Next(1, options.MaxMessagesPerConnection + 1);
                int sent = 0;
                for (int received = 0; received < count; received++)
                {
                    while (sent < count && sent - received < 16)
                    {
                        client.Send(new Echo(sent++, payload));
                    }

                    Echoed reply = await client.ReceiveAsync<Echoed>().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
                    if (reply.Sequence != received || reply.Payload.Length != payload.Length)
                    {
                        throw new InvalidOperationException($"reply {reply.Sequence} arrived where {received} was expected");
                    }

                    Interlocked.Increment(ref totals.Messages);
                }

                // One time in four, leave with messages still in flight: the server must cope with replying to a closing connection.
                if (random.Next(4) == 0)
                {
                    for (int i = 0; i < 8; i++)
                    {
                        client.Send(new Echo(sent++, payload));
                    }

                    Interlocked.Increment(ref totals.LeftMidFlight);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Interlocked.Increment(ref totals.Errors);
                totals.ErrorKinds.AddOrUpdate($"{ex.GetType().Name}: {ex.Message}", 1, (_, n) => n + 1);
            }

            await Task.Delay(random.Next(0, 20), CancellationToken.None);
        }
    }

    private static async Task ReportProgressAsync(Process server, Totals totals, CancellationToken stop)
    {
        var clock = Stopwatch.StartNew();
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(10));
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                Console.WriteLine($"  {clock.Elapsed.TotalSeconds,6:0} s: {totals.Connections,10:N0} connections, {totals.Messages,12:N0} messages, "
                    + $"{totals.Errors,4:N0} errors; server RSS {ResidentMiB(server),7:0.0} MiB");
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static void PrintReport(SoakOptions options, ServerStats start, ServerStats end, Totals totals, FaultProxy? proxy)
    {
        Console.WriteLine();
        Console.WriteLine($"{"",-34}{"start",14}{"end",14}");
        Console.WriteLine($"{"server resident memory (MiB)",-34}{start.ResidentMiB,14:0.0}{end.ResidentMiB,14:0.0}");
        Console.WriteLine($"{"server managed heap after GC (MiB)",-34}{start.HeapBytes / 1048576.0,14:0.00}{end.HeapBytes / 1048576.0,14:0.00}");
        Console.WriteLine($"{"server open connections",-34}{start.Connections,14:N0}{end.Connections,14:N0}");
        Console.WriteLine($"{"users in the room",-34}{start.InRoom,14:N0}{end.InRoom,14:N0}");
        Console.WriteLine();
        Console.WriteLine($"{"clients",-34}{options.Clients,14:N0}");
        Console.WriteLine($"{"minutes",-34}{options.Duration.TotalMinutes,14:0.##}");
        Console.WriteLine($"{"messages exchanged (in order)",-34}{totals.Messages,14:N0}");
        Console.WriteLine($"{"messages handled by the room",-34}{end.Handled,14:N0}");
        Console.WriteLine($"{"connections made (reconnects)",-34}{totals.Connections,14:N0}");
        Console.WriteLine($"{"  of which left mid-flight",-34}{totals.LeftMidFlight,14:N0}");
        if (proxy is not null)
        {
            Console.WriteLine($"{"connections through the proxy",-34}{proxy.Connections,14:N0}");
            Console.WriteLine($"{"  broken by it (black holes)",-34}{proxy.Faults,14:N0}{proxy.BlackHoles,14:N0}");
            Console.WriteLine($"{"sessions resumed",-34}{totals.Resumes,14:N0}");
            Console.WriteLine($"{"client messages replayed",-34}{totals.Replayed,14:N0}");
            Console.WriteLine($"{"first logins cut (connected again)",-34}{totals.FirstLoginsCut,14:N0}");
            Console.WriteLine($"{"messages lost or repeated",-34}{(totals.Errors == 0 ? "none" : "see errors"),14}");
        }

        Console.WriteLine($"{"errors",-34}{totals.Errors,14:N0}");
        foreach (var (kind, count) in totals.ErrorKinds.OrderByDescending(e => e.Value))
        {
            Console.WriteLine($"  {count,6:N0} x {kind}");
        }
    }

    private static Process StartServer(out int port)
    {
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot find this program to start the server.");
        var start = new ProcessStartInfo(self)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.ArgumentList.Add(typeof(SoakDriver).Assembly.Location);
        }

        start.ArgumentList.Add("--server");
        Process process = Process.Start(start) ?? throw new InvalidOperationException("The server process did not start.");
        string? line = process.StandardOutput.ReadLine();
        if (line is null || !line.StartsWith("PORT ", StringComparison.Ordinal))
        {
            process.Kill();
            throw new InvalidOperationException($"The server process said '{line}' instead of its port.");
        }

        port = int.Parse(line.AsSpan(5), CultureInfo.InvariantCulture);
        return process;
    }

    private static async Task<ServerStats> QueryAsync(Process server)
    {
        await server.StandardInput.WriteLineAsync("stats");
        await server.StandardInput.FlushAsync();
        string line = await server.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("The server process ended.");
        Dictionary<string, long> fields = line["STATS ".Length..].Split(' ')
            .Select(field => field.Split('='))
            .ToDictionary(pair => pair[0], pair => long.Parse(pair[1], CultureInfo.InvariantCulture));
        double resident = ResidentMiB(server);
        return new ServerStats(
            double.IsNaN(resident) ? fields["workingset"] / 1048576.0 : resident,
            fields["heap"],
            (int)fields["connections"],
            (int)fields["inroom"],
            fields["handled"]);
    }

    /// <summary>The server process's resident set size from /proc (Linux), or NaN where there is no /proc.</summary>
    private static double ResidentMiB(Process server)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{server.Id}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
                }
            }
        }
        catch (IOException)
        {
        }

        return double.NaN;
    }

    private sealed record ServerStats(double ResidentMiB, long HeapBytes, int Connections, int InRoom, long Handled);

    /// <summary>Counts shared by the clients (fields, for <see cref="Interlocked"/>).</summary>
    private sealed class Totals
    {
        public long Messages;
        public long Connections;
        public long LeftMidFlight;
        public long Errors;
        public long Resumes;
        public long Replayed;
        public long FirstLoginsCut;
        public readonly ConcurrentDictionary<string, int> ErrorKinds = new();
    }
}
