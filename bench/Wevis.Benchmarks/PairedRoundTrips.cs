using System.Diagnostics;

namespace Wevis.Benchmarks;

/// <summary>
/// <see cref="RoundTripBenchmarks"/>'s two round trips measured interleaved: blocks of each, back to back, which one
/// goes first alternating, many times. BenchmarkDotNet runs one method's iterations and then the other's, so on a
/// shared machine whose load moves (this one: 2 cores, several builds at once) the ratio of two runs minutes apart
/// moves with it; a ratio of two blocks a few milliseconds apart does not. The figure is the median, over the
/// pairs of blocks, of (request block's median round trip) / (send-then-receive block's median round trip).
/// </summary>
/// <remarks>Run: <c>dotnet run -c Release --project bench/Wevis.Benchmarks -- paired-round-trips [pairs] [block size]</c>.</remarks>
internal static class PairedRoundTrips
{
    public static async Task<int> RunAsync(string[] args)
    {
        int pairs = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 200;
        int blockSize = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 100;
        var bench = new RoundTripBenchmarks();
        await bench.SetupAsync();
        try
        {
            // Warm up both paths (tiered compilation, pools, the socket).
            for (int i = 0; i < 20_000; i++)
            {
                await bench.SendThenReceive();
                await bench.Request();
            }

            var ratios = new List<double>(pairs);
            var sendMedians = new List<double>(pairs);
            var requestMedians = new List<double>(pairs);
            double[] times = new double[blockSize];
            for (int pair = 0; pair < pairs; pair++)
            {
                bool requestFirst = pair % 2 == 1;
                double first = await BlockAsync(requestFirst ? bench.Request : bench.SendThenReceive, times);
                double second = await BlockAsync(requestFirst ? bench.SendThenReceive : bench.Request, times);
                (double request, double send) = requestFirst ? (first, second) : (second, first);
                sendMedians.Add(send);
                requestMedians.Add(request);
                ratios.Add(request / send);
            }

            Console.WriteLine($"Paired round trips: {pairs} pairs of blocks of {blockSize}, load average {LoadAverage()}");
            Console.WriteLine($"  Send + ReceiveAsync  median of block medians {Median(sendMedians),8:F1} us");
            Console.WriteLine($"  RequestAsync         median of block medians {Median(requestMedians),8:F1} us");
            Console.WriteLine($"  ratio RequestAsync / (Send + ReceiveAsync): median {Median(ratios):F3}, quartiles {Quantile(ratios, 0.25):F3} to {Quantile(ratios, 0.75):F3} (target <= 1.1)");
            return 0;
        }
        finally
        {
            await bench.CleanupAsync();
        }
    }

    private static async Task<double> BlockAsync(Func<Task<int>> roundTrip, double[] times)
    {
        for (int i = 0; i < times.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            await roundTrip();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        return Median(times);
    }

    private static double Median(IReadOnlyCollection<double> values) => Quantile(values, 0.5);

    private static double Quantile(IReadOnlyCollection<double> values, double q)
    {
        double[] sorted = [.. values.Order()];
        return sorted[(int)Math.Round(q * (sorted.Length - 1))];
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}
