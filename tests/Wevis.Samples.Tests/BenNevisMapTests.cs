using BenNevis.Maps;

namespace Wevis.Samples.Tests;

/// <summary>samples/BenNevis/Maps: the height grid, the synthetic Great Britain, and ESRI ASCII grid files.</summary>
public class BenNevisMapTests
{
    // A 1 km map is generated in a fraction of a second and has the same features as the game's 0.5 km one.
    private static readonly HeightGrid Britain = SyntheticBritain.Generate(SyntheticBritain.DefaultSeed, spacing: 1);

    [Fact]
    public void HeightsBetweenSamplesAreInterpolatedBilinearly()
    {
        // 3 x 2 samples, 2 km apart: row 0 (south) 0, 10, 20; row 1 (north) 100, 110, 140.
        var grid = new HeightGrid(3, 2, 2, [0, 10, 20, 100, 110, 140]);

        Assert.Equal((4, 2), (grid.Width, grid.Length));
        Assert.Equal(0, grid.HeightAt(0, 0));
        Assert.Equal(5, grid.HeightAt(1, 0), 9);
        Assert.Equal(50, grid.HeightAt(0, 1), 9);
        Assert.Equal((10 + 20 + 110 + 140) / 4.0, grid.HeightAt(3, 1), 9);
        Assert.Equal(140, grid.HeightAt(4, 2), 9);
        Assert.Equal(new Point(4, 2, 140), grid.Summit);
        Assert.Throws<ArgumentOutOfRangeException>(() => grid.HeightAt(4.01, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => grid.HeightAt(double.NaN, 1));
    }

    [Fact]
    public void TheGradientIsTheInterpolationsOwn()
    {
        var grid = new HeightGrid(3, 2, 2, [0, 10, 20, 100, 110, 140]);

        // In the east cell at (3, 1): east slope = mean of (20 - 10) and (140 - 110) over 2 km; north slope = mean of
        // (110 - 10) and (140 - 20) over 2 km.
        Measurement measured = grid.Measure(3, 1);
        Assert.Equal(new Measurement(70, 10, 55), measured with { Metres = Math.Round(measured.Metres, 9) });
    }

    [Fact]
    public void TheGradientMatchesFiniteDifferencesAcrossTheMap()
    {
        var random = new BenNevis.SplitMix64(7);
        for (int i = 0; i < 200; i++)
        {
            double x = random.Uniform(1, Britain.Width - 1), y = random.Uniform(1, Britain.Length - 1);
            const double H = 1e-4; // km, well inside a 1 km cell unless the point is next to an edge.
            if (Math.Abs((x % Britain.Spacing) - (Britain.Spacing / 2)) > (Britain.Spacing / 2) - (2 * H)
                || Math.Abs((y % Britain.Spacing) - (Britain.Spacing / 2)) > (Britain.Spacing / 2) - (2 * H))
            {
                continue; // Too near a cell edge, where the surface has a kink.
            }

            Measurement measured = Britain.Measure(x, y);
            Assert.Equal(Britain.HeightAt(x, y), measured.Metres, 9);
            Assert.Equal((Britain.HeightAt(x + H, y) - Britain.HeightAt(x - H, y)) / (2 * H), measured.East, 3);
            Assert.Equal((Britain.HeightAt(x, y + H) - Britain.HeightAt(x, y - H)) / (2 * H), measured.North, 3);
        }
    }

    [Fact]
    public void SyntheticBritainIsGreatBritainSizedWithItsSummitAtBenNevissHeight()
    {
        Assert.Equal((700, 1300), (Britain.Width, Britain.Length));
        Assert.Equal(SyntheticBritain.SummitHeight, Britain.Summit.Metres, 3);
        Assert.Equal(Britain.Summit.Metres, Britain.HeightAt(Britain.Summit.X, Britain.Summit.Y), 3);

        // The sea is 0 m, all along the edges and over much of the map; the land is a minority, as in the real grid.
        for (int column = 0; column < Britain.Columns; column++)
        {
            Assert.Equal(0, Britain.Sample(column, 0));
            Assert.Equal(0, Britain.Sample(column, Britain.Rows - 1));
        }

        double land = Enumerable.Range(0, Britain.Rows).Sum(row => Enumerable.Range(0, Britain.Columns).Count(column => Britain.Sample(column, row) > 0));
        Assert.InRange(land / (Britain.Columns * Britain.Rows), 0.25, 0.6);
    }

    [Fact]
    public void SyntheticBritainHasManyLesserSummitsToCatchAClimber()
    {
        // Tops: samples higher than their eight neighbours.
        var tops = new List<float>();
        for (int row = 1; row < Britain.Rows - 1; row++)
        {
            for (int column = 1; column < Britain.Columns - 1; column++)
            {
                float height = Britain.Sample(column, row);
                bool isTop = height > 0 && Enumerable.Range(-1, 3).All(dy => Enumerable.Range(-1, 3).All(
                    dx => (dx == 0 && dy == 0) || Britain.Sample(column + dx, row + dy) < height));
                if (isTop)
                {
                    tops.Add(height);
                }
            }
        }

        Assert.True(tops.Count > 2000, $"Only {tops.Count} tops.");
        Assert.True(tops.Count(h => h > 1000) >= 10, "Fewer than 10 tops above 1000 m: no rivals to the summit.");
        Assert.True(tops.Count(h => h < 300) > tops.Count / 2, "Most tops should be low hills, where a climber from the lowland stops.");
    }

    [Fact]
    public void TheSameSeedMakesTheSameMapAndAnotherSeedAnother()
    {
        HeightGrid again = SyntheticBritain.Generate(SyntheticBritain.DefaultSeed, spacing: 1);
        HeightGrid other = SyntheticBritain.Generate(SyntheticBritain.DefaultSeed + 1, spacing: 1);

        Assert.Equal(Britain.Summit, again.Summit);
        Assert.Equal(Britain.HeightAt(312.34, 643.21), again.HeightAt(312.34, 643.21));
        Assert.NotEqual(Britain.Summit, other.Summit);
    }

    [Fact]
    public void AFinerSpacingSamplesTheSameLandscape()
    {
        HeightGrid fine = SyntheticBritain.Generate(SyntheticBritain.DefaultSeed, spacing: 0.5);

        // Both are scaled to the same summit height; at the coarse map's samples the fine one has (almost) the same
        // heights, the small difference coming from the scaling to the fine map's own highest sample.
        Assert.Equal((1401, 2601), (fine.Columns, fine.Rows));
        for (int row = 100; row < Britain.Rows; row += 97)
        {
            for (int column = 50; column < Britain.Columns; column += 53)
            {
                Assert.Equal(Britain.Sample(column, row), fine.Sample(column * 2, row * 2), 0.06 * Britain.Sample(column, row) + 0.01);
            }
        }
    }

    [Fact]
    public void AnEsriAsciiGridIsReadNorthRowFirstInMetres()
    {
        const string File = """
            ncols        3
            nrows        2
            xllcorner    200000
            yllcorner    700000
            cellsize     50
            NODATA_value -9999
            100 110.5 140
            -9999 10 20
            """;

        HeightGrid grid = EsriAsciiGrid.Read(new StringReader(File));

        Assert.Equal((3, 2, 0.05), (grid.Columns, grid.Rows, grid.Spacing));
        Assert.Equal([0f, 10f, 20f], Enumerable.Range(0, 3).Select(column => grid.Sample(column, 0))); // The south row, NODATA as sea.
        Assert.Equal([100f, 110.5f, 140f], Enumerable.Range(0, 3).Select(column => grid.Sample(column, 1)));
        Assert.Equal(new Point(0.1, 0.05, 140), grid.Summit);
    }

    [Fact]
    public void AWrittenGridReadsBackTheSame()
    {
        HeightGrid small = new(4, 3, 0.25, [0, 1.5f, 2.25f, 3, 4, 5, 6, 7, 8, 9, 10, 1345.123f]);
        var text = new StringWriter();

        EsriAsciiGrid.Write(small, text);
        HeightGrid read = EsriAsciiGrid.Read(new StringReader(text.ToString()));

        Assert.Equal((small.Columns, small.Rows, small.Spacing), (read.Columns, read.Rows, read.Spacing));
        Assert.All(Enumerable.Range(0, 12), k => Assert.Equal(small.Sample(k % 4, k / 4), read.Sample(k % 4, k / 4)));
    }

    [Theory]
    [InlineData("ncols 2\nnrows 2\nxllcorner 0\nyllcorner 0\ncellsize 50\n1 2\n3", "The file ends before the height in row 2, column 2.")]
    [InlineData("ncols 2\nnrows 2\nxllcorner 0\nyllcorner 0\ncellsize 50\n1 2\n3 x", "Line 7: the height in row 2, column 2 is 'x', not a number.")]
    [InlineData("ncols 2\nnrows 2\nxllcorner 0\nyllcorner 0\ncellsize 50\n1 2\n3 4\n5", "The file goes on after its 2 x 2 heights (line 8: '5').")]
    [InlineData("ncols 2\nxllcorner 0", "Line 2: expected the header 'nrows'.")]
    [InlineData("ncols 2.5\nnrows 2", "Line 1: 'ncols' is 2.5; it must be a whole number.")]
    [InlineData("ncols 1\nnrows 2\nxllcorner 0\nyllcorner 0\ncellsize 50\n1 2", "The grid is 1 x 2; it needs at least 2 x 2 samples.")]
    [InlineData("ncols 2\nnrows 2\nxllcorner 0\nyllcorner 0\ncellsize -5\n1 2 3 4", "The cellsize is -5; it must be a positive number of metres.")]
    [InlineData("ncols 100000\nnrows 100000\nxllcorner 0\nyllcorner 0\ncellsize 5\n", "The grid is 100000 x 100000, more samples than one array holds; resample it to a coarser cellsize.")]
    public void ABadGridFileIsRefusedWithWhereAndWhy(string text, string reason)
    {
        FormatException ex = Assert.Throws<FormatException>(() => EsriAsciiGrid.Read(new StringReader(text)));

        Assert.Equal(reason, ex.Message);
    }
}
