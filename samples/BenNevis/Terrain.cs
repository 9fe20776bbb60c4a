namespace BenNevis;

/// <summary>
/// The game's landscape: a height map of a square <see cref="Size"/> km across, with a height sample every
/// <see cref="Spacing"/> km and heights between samples interpolated bilinearly. It is synthetic, and the same
/// seed always gives the same map. It is the sum of
/// <list type="bullet">
/// <item>Ben Nevis: a bell-shaped mountain (a Gaussian), 1200 m high and 3 km wide, at a random place at least
/// 10 km from the edges;</item>
/// <item>rolling hills: <see cref="HillCount"/> smaller bells, 100 to 500 m high and 1 to 4 km wide, at random
/// places at least 8 km from Ben Nevis (where they overlap, they add up);</item>
/// <item>a base of 20 m with a ripple of ±15 m, whose little tops catch a careless climber;</item>
/// </list>
/// scaled so that the highest sample is exactly <see cref="PeakHeight"/> m, Ben Nevis's real height. Players are
/// scored by their distance to that sample, <see cref="Peak"/>. On the default map, no other top comes within
/// 300 m of it (the sample's tests check this).
/// </summary>
public sealed class Terrain
{
    /// <summary>The seed of the map the game uses unless told otherwise.</summary>
    public const ulong DefaultSeed = 1345;

    /// <summary>The height of the highest point, in metres.</summary>
    public const double PeakHeight = 1345;

    /// <summary>How many rolling hills surround Ben Nevis.</summary>
    public const int HillCount = 30;

    private readonly float[] _heights; // row by row: _heights[row * SamplesPerSide + column], row = y, column = x

    private Terrain(double size, int samplesPerSide, float[] heights, (double X, double Y) summit)
    {
        Size = size;
        SamplesPerSide = samplesPerSide;
        _heights = heights;
        Summit = summit;
        int highest = 0;
        for (int k = 1; k < heights.Length; k++)
        {
            if (heights[k] > heights[highest])
            {
                highest = k;
            }
        }

        Peak = ((highest % samplesPerSide) * Spacing, (highest / samplesPerSide) * Spacing, heights[highest]);
    }

    /// <summary>The map's width and length, in km.</summary>
    public double Size { get; }

    /// <summary>Samples along each side of the map; there are this many squared in all.</summary>
    public int SamplesPerSide { get; }

    /// <summary>The distance between neighbouring samples, in km.</summary>
    public double Spacing => Size / (SamplesPerSide - 1);

    /// <summary>The highest sample: where Ben Nevis's summit is on this map, and how high.</summary>
    public (double X, double Y, double Height) Peak { get; }

    /// <summary>The centre of the Ben Nevis mountain as generated, before hills and ripples were added.</summary>
    public (double X, double Y) Summit { get; }

    /// <summary>Makes the map for <paramref name="seed"/>: 50 km across, sampled every 100 m, unless told otherwise.</summary>
    public static Terrain Generate(ulong seed = DefaultSeed, double size = 50, int samplesPerSide = 501)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 30);
        ArgumentOutOfRangeException.ThrowIfLessThan(samplesPerSide, 2);
        var random = new SplitMix64(seed);
        double Uniform(double low, double high) => low + ((high - low) * random.NextDouble());

        var summit = (X: Uniform(10, size - 10), Y: Uniform(10, size - 10));
        var bells = new List<Bell> { new(summit.X, summit.Y, Height: 1200, Width: 3) };
        while (bells.Count <= HillCount)
        {
            var hill = new Bell(Uniform(0, size), Uniform(0, size), Uniform(100, 500), Uniform(1, 4));
            if (Distance(hill.X, hill.Y, summit.X, summit.Y) >= 8)
            {
                bells.Add(hill);
            }
        }

        double rippleX = Uniform(0, 2 * Math.PI), rippleY = Uniform(0, 2 * Math.PI);
        double spacing = size / (samplesPerSide - 1);
        var heights = new double[samplesPerSide * samplesPerSide];
        double highest = double.MinValue;
        for (int row = 0; row < samplesPerSide; row++)
        {
            for (int column = 0; column < samplesPerSide; column++)
            {
                double x = column * spacing, y = row * spacing;
                double height = 20 + (15 * Math.Sin((x / 2.3 * 2 * Math.PI) + rippleX) * Math.Sin((y / 1.9 * 2 * Math.PI) + rippleY));
                foreach (Bell bell in bells)
                {
                    height += bell.HeightAt(x, y);
                }

                heights[(row * samplesPerSide) + column] = height;
                highest = Math.Max(highest, height);
            }
        }

        double scale = PeakHeight / highest;
        return new Terrain(size, samplesPerSide, heights.Select(h => (float)(h * scale)).ToArray(), summit);
    }

    /// <summary>Whether (<paramref name="x"/>, <paramref name="y"/>) is on the map (false for NaN).</summary>
    public bool Contains(double x, double y) => x >= 0 && x <= Size && y >= 0 && y <= Size;

    /// <summary>The height at a point on the map, in metres, interpolated between the four samples around it.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The point is not on the map.</exception>
    public double HeightAt(double x, double y)
    {
        if (!Contains(x, y))
        {
            throw new ArgumentOutOfRangeException(nameof(x), $"({x}, {y}) is not on the map.");
        }

        double fx = x / Spacing, fy = y / Spacing;
        int column = Math.Min((int)fx, SamplesPerSide - 2), row = Math.Min((int)fy, SamplesPerSide - 2);
        double tx = fx - column, ty = fy - row;
        double south = Lerp(Sample(column, row), Sample(column + 1, row), tx);
        double north = Lerp(Sample(column, row + 1), Sample(column + 1, row + 1), tx);
        return Lerp(south, north, ty);
    }

    /// <summary>The height of one sample, in metres.</summary>
    public double Sample(int column, int row) => _heights[(row * SamplesPerSide) + column];

    /// <summary>How far (<paramref name="x"/>, <paramref name="y"/>) is from the highest point, in km.</summary>
    public double DistanceToPeak(double x, double y) => Distance(x, y, Peak.X, Peak.Y);

    private static double Distance(double x1, double y1, double x2, double y2) => Math.Sqrt(((x1 - x2) * (x1 - x2)) + ((y1 - y2) * (y1 - y2)));

    private static double Lerp(double a, double b, double t) => a + ((b - a) * t);

    /// <summary>A bell-shaped hill: <paramref name="Height"/> m at its centre, falling off over about <paramref name="Width"/> km.</summary>
    private readonly record struct Bell(double X, double Y, double Height, double Width)
    {
        public double HeightAt(double x, double y) =>
            Height * Math.Exp(-(((x - X) * (x - X)) + ((y - Y) * (y - Y))) / (2 * Width * Width));
    }

    /// <summary>
    /// SplitMix64, a small random generator whose sequence is fixed by its definition, so a seed gives the same map
    /// on every machine and .NET version (unlike a seeded <see cref="Random"/>, whose algorithm may change).
    /// </summary>
    private sealed class SplitMix64(ulong seed)
    {
        private ulong _state = seed;

        public double NextDouble()
        {
            ulong z = _state += 0x9E3779B97F4A7C15;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
            z ^= z >> 31;
            return (z >> 11) * (1.0 / (1UL << 53));
        }
    }
}
