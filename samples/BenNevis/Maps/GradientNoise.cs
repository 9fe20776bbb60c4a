namespace BenNevis.Maps;

/// <summary>
/// Seeded two-dimensional gradient noise (Perlin's construction): a smooth random surface with features about one
/// unit across, between about -1 and 1, and the sum of several such surfaces at doubling frequencies (fractal noise).
/// The same seed gives the same surface everywhere: the permutation comes from <see cref="SplitMix64"/>.
/// </summary>
internal sealed class GradientNoise
{
    // Eight directions, as (x, y) pairs: the four axes and the four diagonals.
    private static readonly double[] Directions = [1, 0, -1, 0, 0, 1, 0, -1, 1, 1, -1, 1, 1, -1, -1, -1];

    private readonly byte[] _permutation = new byte[512]; // 0..255 shuffled, twice, so lookups need no wrap.
    private readonly double _offsetX;
    private readonly double _offsetY;

    public GradientNoise(SplitMix64 random)
    {
        for (int i = 0; i < 256; i++)
        {
            _permutation[i] = (byte)i;
        }

        for (int i = 255; i > 0; i--)
        {
            int j = random.Below(i + 1);
            (_permutation[i], _permutation[j]) = (_permutation[j], _permutation[i]);
        }

        Array.Copy(_permutation, 0, _permutation, 256, 256);

        // Moves the lattice so that (0, 0), where every octave's noise is 0, is nowhere special.
        _offsetX = random.Uniform(0, 256);
        _offsetY = random.Uniform(0, 256);
    }

    /// <summary>The noise at (<paramref name="x"/>, <paramref name="y"/>): 0 at lattice points, smooth between.</summary>
    public double At(double x, double y)
    {
        x += _offsetX;
        y += _offsetY;
        double floorX = Math.Floor(x), floorY = Math.Floor(y);
        int column = (int)floorX & 255, row = (int)floorY & 255;
        double fx = x - floorX, fy = y - floorY;

        int a = _permutation[column] + row, b = _permutation[column + 1] + row;
        double southWest = Dot(_permutation[a], fx, fy);
        double southEast = Dot(_permutation[b], fx - 1, fy);
        double northWest = Dot(_permutation[a + 1], fx, fy - 1);
        double northEast = Dot(_permutation[b + 1], fx - 1, fy - 1);

        double u = Fade(fx), v = Fade(fy);
        double south = southWest + (u * (southEast - southWest));
        double north = northWest + (u * (northEast - northWest));
        return south + (v * (north - south));
    }

    /// <summary>
    /// Fractal noise: <paramref name="octaves"/> layers, each twice the frequency and half the amplitude of the one
    /// before, scaled back to about -1..1. Features of the first layer are <paramref name="wavelength"/> across.
    /// </summary>
    public double Fractal(double x, double y, double wavelength, int octaves)
    {
        double sum = 0, amplitude = 1, total = 0, frequency = 1 / wavelength;
        for (int octave = 0; octave < octaves; octave++)
        {
            // Each layer shifted by an odd amount, so their lattices do not line up.
            sum += amplitude * At((x * frequency) + (octave * 17.31), (y * frequency) - (octave * 29.17));
            total += amplitude;
            amplitude *= 0.5;
            frequency *= 2;
        }

        return sum / total;
    }

    /// <summary>
    /// Ridged fractal noise: each layer folded (1 - |noise|)², which makes sharp crests where the noise crosses 0, so
    /// the sum is a web of ridges with peaks along them. Between 0 and 1; features <paramref name="wavelength"/> across.
    /// </summary>
    public double Ridged(double x, double y, double wavelength, int octaves)
    {
        double sum = 0, amplitude = 1, total = 0, frequency = 1 / wavelength;
        for (int octave = 0; octave < octaves; octave++)
        {
            double crest = 1 - Math.Abs(At((x * frequency) - (octave * 13.7), (y * frequency) + (octave * 41.3)));
            sum += amplitude * crest * crest;
            total += amplitude;
            amplitude *= 0.5;
            frequency *= 2;
        }

        return sum / total;
    }

    private static double Fade(double t) => t * t * t * ((t * ((t * 6) - 15)) + 10);

    private static double Dot(int hash, double x, double y)
    {
        int k = (hash & 7) * 2;
        return (Directions[k] * x) + (Directions[k + 1] * y);
    }
}
