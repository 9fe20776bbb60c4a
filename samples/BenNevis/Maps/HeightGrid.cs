namespace BenNevis.Maps;

/// <summary>
/// A height map: heights in metres on a regular grid, <see cref="Spacing"/> km between neighbouring samples, columns
/// running east from x = 0 and rows running north from y = 0. Between samples the height is interpolated bilinearly,
/// so a query costs four array reads and a few multiplications, and the gradient comes with it exactly (it is the
/// gradient of the interpolation, constant along each cell's edges and continuous inside a cell).
/// </summary>
/// <remarks>
/// The highest sample is the summit: bilinear interpolation never rises above the samples around it, so no point of
/// the map is higher. Ties go to the first in row order (south before north, then west before east).
/// </remarks>
public sealed class HeightGrid
{
    private readonly float[] _heights; // _heights[row * Columns + column]

    /// <summary>Makes a map from its samples.</summary>
    /// <param name="columns">Samples from west to east, at least 2.</param>
    /// <param name="rows">Samples from south to north, at least 2.</param>
    /// <param name="spacing">The distance between neighbouring samples, in km.</param>
    /// <param name="heights">The samples, in metres, row by row from the south, each row from the west; kept, not copied.</param>
    /// <exception cref="ArgumentException">The sizes do not agree, or a height is not a finite number.</exception>
    public HeightGrid(int columns, int rows, double spacing, float[] heights)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 2);
        ArgumentNullException.ThrowIfNull(heights);
        if (!(spacing > 0 && double.IsFinite(spacing)))
        {
            throw new ArgumentOutOfRangeException(nameof(spacing), spacing, "The spacing must be a positive number of km.");
        }

        if (heights.Length != (long)columns * rows)
        {
            throw new ArgumentException($"{columns} x {rows} samples need {(long)columns * rows} heights, not {heights.Length}.", nameof(heights));
        }

        int highest = 0;
        for (int k = 0; k < heights.Length; k++)
        {
            if (!float.IsFinite(heights[k]))
            {
                throw new ArgumentException($"The height of sample {k % columns}, {k / columns} is {heights[k]}.", nameof(heights));
            }

            if (heights[k] > heights[highest])
            {
                highest = k;
            }
        }

        Columns = columns;
        Rows = rows;
        Spacing = spacing;
        _heights = heights;
        Summit = new Point((highest % columns) * spacing, (highest / columns) * spacing, heights[highest]);
    }

    /// <summary>Samples from west to east.</summary>
    public int Columns { get; }

    /// <summary>Samples from south to north.</summary>
    public int Rows { get; }

    /// <summary>The distance between neighbouring samples, in km.</summary>
    public double Spacing { get; }

    /// <summary>The map's extent from west to east, in km: x runs from 0 to this.</summary>
    public double Width => (Columns - 1) * Spacing;

    /// <summary>The map's extent from south to north, in km: y runs from 0 to this.</summary>
    public double Length => (Rows - 1) * Spacing;

    /// <summary>The highest point: its place (km) and height (m). Not for players' eyes before a match ends.</summary>
    public Point Summit { get; }

    /// <summary>Whether (<paramref name="x"/>, <paramref name="y"/>) is on the map (false for NaN).</summary>
    public bool Contains(double x, double y) => x >= 0 && x <= Width && y >= 0 && y <= Length;

    /// <summary>The height of one sample, in metres.</summary>
    public float Sample(int column, int row) => _heights[(row * Columns) + column];

    /// <summary>The height at a point, in metres, interpolated between the four samples around it.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The point is not on the map.</exception>
    public double HeightAt(double x, double y)
    {
        Cell cell = Locate(x, y);
        double south = cell.SouthWest + ((cell.SouthEast - cell.SouthWest) * cell.Tx);
        double north = cell.NorthWest + ((cell.NorthEast - cell.NorthWest) * cell.Tx);
        return south + ((north - south) * cell.Ty);
    }

    /// <summary>
    /// The height at a point and the gradient of the interpolated surface there: how many metres the ground rises
    /// per km east and per km north. On a cell's west or south edge the gradient is that of the cell to the
    /// north-east (the surface has a kink there).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The point is not on the map.</exception>
    public Measurement Measure(double x, double y)
    {
        Cell cell = Locate(x, y);
        double south = cell.SouthWest + ((cell.SouthEast - cell.SouthWest) * cell.Tx);
        double north = cell.NorthWest + ((cell.NorthEast - cell.NorthWest) * cell.Tx);
        double west = cell.SouthWest + ((cell.NorthWest - cell.SouthWest) * cell.Ty);
        double east = cell.SouthEast + ((cell.NorthEast - cell.SouthEast) * cell.Ty);
        return new Measurement(south + ((north - south) * cell.Ty), (east - west) / Spacing, (north - south) / Spacing);
    }

    private Cell Locate(double x, double y)
    {
        if (!Contains(x, y))
        {
            throw new ArgumentOutOfRangeException(nameof(x), $"({x}, {y}) is not on the map, which runs from 0 to {Width} km east and 0 to {Length} km north.");
        }

        double fx = x / Spacing, fy = y / Spacing;
        int column = Math.Min((int)fx, Columns - 2), row = Math.Min((int)fy, Rows - 2);
        int k = (row * Columns) + column;
        return new Cell(_heights[k], _heights[k + 1], _heights[k + Columns], _heights[k + Columns + 1], fx - column, fy - row);
    }

    private readonly record struct Cell(double SouthWest, double SouthEast, double NorthWest, double NorthEast, double Tx, double Ty);
}

/// <summary>A place on the map (km east, km north) and its height (m).</summary>
public readonly record struct Point(double X, double Y, double Metres);

/// <summary>A height (m) and the gradient there: metres of rise per km east and per km north.</summary>
public readonly record struct Measurement(double Metres, double East, double North);
