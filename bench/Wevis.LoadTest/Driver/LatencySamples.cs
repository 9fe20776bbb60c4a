using System.Diagnostics;

namespace Wevis.LoadTest.Driver;

/// <summary>Round-trip times in <see cref="Stopwatch"/> ticks, kept whole so that percentiles are exact.</summary>
internal sealed class LatencySamples
{
    private long[] _ticks;
    private int _count;

    public LatencySamples(int capacity = 1024) => _ticks = new long[capacity];

    public int Count => _count;

    public void Add(long ticks)
    {
        if (_count == _ticks.Length)
        {
            Array.Resize(ref _ticks, _ticks.Length * 2);
        }

        _ticks[_count++] = ticks;
    }

    public static LatencySamples Merge(IEnumerable<LatencySamples> parts)
    {
        var merged = new LatencySamples();
        foreach (LatencySamples part in parts)
        {
            for (int i = 0; i < part._count; i++)
            {
                merged.Add(part._ticks[i]);
            }
        }

        return merged;
    }

    /// <summary>The <paramref name="percentile"/>th percentile (nearest rank), in microseconds.</summary>
    public double PercentileMicroseconds(double percentile)
    {
        if (_count == 0)
        {
            return double.NaN;
        }

        long[] sorted = _ticks[.._count];
        Array.Sort(sorted);
        int rank = (int)Math.Ceiling(percentile / 100 * _count);
        return sorted[Math.Clamp(rank - 1, 0, _count - 1)] * 1_000_000.0 / Stopwatch.Frequency;
    }
}
