using System.Diagnostics;

namespace Wevis.LoadTest.Driver;

/// <summary>c), g) and the cluster benchmark's c): many clients, each in its own strict loop of round trips.</summary>
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
}
