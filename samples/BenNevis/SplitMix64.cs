namespace BenNevis;

/// <summary>
/// SplitMix64, a small random generator whose sequence is fixed by its definition, so a seed gives the same map and
/// the same bot moves on every machine and .NET version (unlike a seeded <see cref="Random"/>, whose algorithm may
/// change).
/// </summary>
public sealed class SplitMix64(ulong seed)
{
    private ulong _state = seed;

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }

    /// <summary>A number in [0, 1), from 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A number in [<paramref name="low"/>, <paramref name="high"/>).</summary>
    public double Uniform(double low, double high) => low + ((high - low) * NextDouble());

    /// <summary>An integer in [0, <paramref name="count"/>).</summary>
    public int Below(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        return (int)((NextUInt64() >> 33) % (ulong)count);
    }

    /// <summary>A number from the standard normal distribution (Box-Muller; one of the pair is dropped).</summary>
    public double Gaussian()
    {
        double u = 1 - NextDouble(); // (0, 1]: the logarithm is finite.
        double v = NextDouble();
        return Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v);
    }

    /// <summary>A generator of its own, seeded from this one, for a part that must not disturb this one's sequence.</summary>
    public SplitMix64 Fork() => new(NextUInt64());
}
