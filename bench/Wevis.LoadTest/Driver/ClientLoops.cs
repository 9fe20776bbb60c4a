using System.Diagnostics;
using Wevis.LoadTest.Clients;

namespace Wevis.LoadTest.Driver;

/// <summary>Strict loops of round trips: a)'s blocks of one client, and c)'s and g)'s many clients each in its own loop.</summary>
internal static class ClientLoops
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Runs <paramref name="roundTrip"/> in a loop per client (by index) for <paramref name="warmup"/> and then
    /// <paramref name="measure"/>; <paramref name="phase"/> is told when measuring starts (true) and ends (false).
    /// Returns the round trips per second measured, their p99 in µs, and how long was measured.
    /// </summary>
    public static async Task<(double PerSecond, double P99, TimeSpan Elapsed)> MeasureAsync(int count, Func<int, ValueTask> roundTrip, Action<bool>? phase, TimeSpan warmup, TimeSpan measure)
    {
        int state = 0; // 0 warming up, 1 measuring, 2 stopping
        LatencySamples[] samples = [.. Enumerable.Range(0, count).Select(_ => new LatencySamples(1024))];
        Task[] running = [.. Enumerable.Range(0, count).Select(i => Task.Run(async () =>
        {
            LatencySamples mine = samples[i];
            while (Volatile.Read(ref state) != 2)
            {
                long start = Stopwatch.GetTimestamp();
                await roundTrip(i).ConfigureAwait(false);
                long elapsed = Stopwatch.GetTimestamp() - start;
                if (Volatile.Read(ref state) == 1)
                {
                    mine.Add(elapsed);
                }
            }
        }))];

        await Task.Delay(warmup).ConfigureAwait(false);
        phase?.Invoke(true);
        Volatile.Write(ref state, 1);
        long measureStart = Stopwatch.GetTimestamp();
        await Task.Delay(measure).ConfigureAwait(false);
        Volatile.Write(ref state, 2);
        TimeSpan measured = Stopwatch.GetElapsedTime(measureStart);
        phase?.Invoke(false);
        await Task.WhenAll(running).WaitAsync(Bound).ConfigureAwait(false);
        LatencySamples all = LatencySamples.Merge(samples);
        return (all.Count / measured.TotalSeconds, all.PercentileMicroseconds(99), measured);
    }

    /// <summary>
    /// a) One block: <paramref name="count"/> round trips of <paramref name="client"/>, one after the other, each added to
    /// <paramref name="all"/>. Returns the block's median in µs (paired ratios compare blocks run back to back).
    /// </summary>
    public static async Task<double> BlockAsync(IBenchClient client, int count, LatencySamples all)
    {
        var block = new LatencySamples(count);
        for (int i = 0; i < count; i++)
        {
            long start = Stopwatch.GetTimestamp();
            await client.RoundTripAsync().ConfigureAwait(false);
            long elapsed = Stopwatch.GetTimestamp() - start;
            block.Add(elapsed);
            all.Add(elapsed);
        }

        return block.PercentileMicroseconds(50);
    }
}
