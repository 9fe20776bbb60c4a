namespace BenNevis.Maps;

/// <summary>
/// A made-up island the size of Great Britain, standing in for the real heights (Ordnance Survey's OS Terrain 50),
/// which this program cannot download. It is generated from a seed, the same seed always giving the same map, and is
/// built to be hard in the ways the real one is: a long island in a sea of height 0 (where a climber finds no slope
/// at all), lowland hills with small tops everywhere, mountain ranges of ridges and peaks, more of them in the north,
/// and plateaus whose flat tops stop a climber. The heights are scaled so that the highest sample is
/// <see cref="SummitHeight"/> m, Ben Nevis's height; where that is depends on the seed.
/// </summary>
/// <remarks>
/// The map is <see cref="Width"/> km by <see cref="Length"/> km, as the Ordnance Survey's grid of Great Britain, and is
/// sampled every <c>spacing</c> km into a <see cref="HeightGrid"/>. The heights are a function of the place, so a finer
/// spacing samples the same landscape more closely. How it is made, in the order it is applied:
/// <list type="number">
/// <item>the coast: a wavy spine runs from south to north, wide in the south and narrow in the north with a waist
/// between; land is where the distance from the spine, in units of its half-width and blurred by fractal noise, is
/// under 1 (this gives bays, headlands and islands); the map's edges are sea;</item>
/// <item>lowland: rolling hills up to about 150 m, lower near the coast;</item>
/// <item>mountains: ridged fractal noise (a web of sharp crests) where a slowly varying "mountain" field is high,
/// which is more often in the north;</item>
/// <item>plateaus: in some regions the heights are terraced into flat steps;</item>
/// <item>detail: a few tens of metres of small bumps everywhere on land, each a little top of its own.</item>
/// </list>
/// </remarks>
public static class SyntheticBritain
{
    /// <summary>The seed of the map used unless told otherwise.</summary>
    public const ulong DefaultSeed = 1345;

    /// <summary>The map's extent from west to east, in km.</summary>
    public const double Width = 700;

    /// <summary>The map's extent from south to north, in km.</summary>
    public const double Length = 1300;

    /// <summary>The height of the highest sample, in metres.</summary>
    public const double SummitHeight = 1345;

    /// <summary>The distance between samples unless told otherwise, in km (1401 x 2601 samples, 14.6 MB).</summary>
    public const double DefaultSpacing = 0.5;

    private const int SpinePoints = 11; // control points of the spine, evenly from south (y = 0) to north.

    /// <summary>Makes the map for <paramref name="seed"/>, sampled every <paramref name="spacing"/> km.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="spacing"/> is not between 0.1 and 50 km.</exception>
    public static HeightGrid Generate(ulong seed = DefaultSeed, double spacing = DefaultSpacing)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(spacing, 0.1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(spacing, 50);
        var shape = new Shape(new SplitMix64(seed));
        int columns = (int)Math.Round(Width / spacing) + 1, rows = (int)Math.Round(Length / spacing) + 1;
        double dx = Width / (columns - 1), dy = Length / (rows - 1);
        if (Math.Abs(dx - dy) > 1e-9 * spacing)
        {
            throw new ArgumentOutOfRangeException(nameof(spacing), spacing, $"The spacing must divide {Width} and {Length} km evenly.");
        }

        var heights = new float[columns * rows];
        Parallel.For(0, rows, row =>
        {
            for (int column = 0; column < columns; column++)
            {
                heights[(row * columns) + column] = (float)shape.HeightAt(column * dx, row * dy);
            }
        });

        float highest = heights.Max();
        float scale = (float)(SummitHeight / highest);
        for (int k = 0; k < heights.Length; k++)
        {
            heights[k] *= scale;
        }

        return new HeightGrid(columns, rows, dx, heights);
    }

    /// <summary>The landscape as a function of place, before scaling; all its randomness is drawn when it is made.</summary>
    private sealed class Shape
    {
        private readonly double[] _spineX = new double[SpinePoints];
        private readonly double[] _halfWidth = new double[SpinePoints];
        private readonly GradientNoise _coast;
        private readonly GradientNoise _lowland;
        private readonly GradientNoise _region;
        private readonly GradientNoise _ridges;
        private readonly GradientNoise _plateaus;
        private readonly GradientNoise _detail;

        public Shape(SplitMix64 random)
        {
            // The spine drifts from the south-east to the north-west; the island is wide in the south, narrow in
            // the north, and has a narrow waist somewhere in the north half.
            int waist = 5 + random.Below(2);
            for (int k = 0; k < SpinePoints; k++)
            {
                double north = k / (double)(SpinePoints - 1);
                _spineX[k] = 430 - (170 * north) + random.Uniform(-50, 50);
                _halfWidth[k] = k == waist ? random.Uniform(35, 55) : k == SpinePoints - 1 ? 20 : random.Uniform(0.8, 1.2) * (240 - (140 * north));
            }

            _coast = new GradientNoise(random.Fork());
            _lowland = new GradientNoise(random.Fork());
            _region = new GradientNoise(random.Fork());
            _ridges = new GradientNoise(random.Fork());
            _plateaus = new GradientNoise(random.Fork());
            _detail = new GradientNoise(random.Fork());
        }

        public double HeightAt(double x, double y)
        {
            double inland = Inland(x, y);
            if (inland <= 0)
            {
                return 0; // The sea.
            }

            double lowland = 150 * (0.5 + (0.6 * _lowland.Fractal(x, y, 45, 4))) * SmoothStep(0, 0.5, inland);
            double northness = y / Length;
            double mountainous = SmoothStep(0.45, 0.75, 0.5 + (0.7 * _region.Fractal(x, y, 220, 3)) + (0.3 * (northness - 0.5)));
            double crest = Math.Max(0, (_ridges.Ridged(x, y, 110, 6) - 0.35) / 0.65);
            double mountains = mountainous * 2000 * crest * crest * crest * SmoothStep(0, 0.25, inland);

            // Plateaus: the mountains terraced into steps 180 m high whose treads are flat.
            double plateau = SmoothStep(0.6, 0.7, 0.5 + (0.6 * _plateaus.Fractal(x, y, 150, 2)));
            if (plateau > 0)
            {
                const double Step = 180;
                double steps = mountains / Step, floor = Math.Floor(steps);
                double terraced = Step * (floor + SmoothStep(0.75, 1, steps - floor));
                mountains += plateau * (terraced - mountains);
            }

            double height = lowland + mountains;
            height += 30 * _detail.Fractal(x, y, 7, 3) * SmoothStep(0, 0.3, inland);
            return Math.Max(0, height * SmoothStep(0, 0.02, inland));
        }

        /// <summary>Above 0 on land, growing inland; 0 or below in the sea.</summary>
        private double Inland(double x, double y)
        {
            double t = y / Length * (SpinePoints - 1);
            int k = Math.Min((int)t, SpinePoints - 2);
            double f = SmoothStep(0, 1, t - k);
            double spine = _spineX[k] + ((_spineX[k + 1] - _spineX[k]) * f);
            double halfWidth = _halfWidth[k] + ((_halfWidth[k + 1] - _halfWidth[k]) * f);
            double inland = 1 - (Math.Abs(x - spine) / halfWidth) + (1.3 * _coast.Fractal(x, y, 130, 6));

            // Sea along the map's edges: land fades out within 60 km of them, and is gone at the edge itself (where
            // the rest cannot exceed 1 + 1.3 = 2.3).
            double edge = Math.Min(Math.Min(x, Width - x), Math.Min(y, Length - y));
            double fade = edge < 60 ? (60 - edge) / 60 : 0;
            return inland - (2.5 * fade * fade);
        }

        private static double SmoothStep(double low, double high, double value)
        {
            double t = Math.Clamp((value - low) / (high - low), 0, 1);
            return t * t * (3 - (2 * t));
        }
    }
}
