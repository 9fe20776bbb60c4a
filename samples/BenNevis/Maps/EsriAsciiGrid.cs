using System.Globalization;
using System.Text;

namespace BenNevis.Maps;

/// <summary>
/// Reads and writes height maps as ESRI ASCII grids (<c>.asc</c>), the format Ordnance Survey ships OS Terrain 50 in, so
/// that someone with the real data can play on it: merge the tiles into one file (GDAL's
/// <c>gdal_merge.py -of AAIGrid</c>, say, resampled to 100 or 200 m to keep it small) and point the game at it.
/// </summary>
/// <remarks>
/// The format: six header lines, each a keyword and a number, then <c>nrows</c> rows of <c>ncols</c> heights separated
/// by spaces, the <b>northernmost row first</b>:
/// <code>
/// ncols        3
/// nrows        2
/// xllcorner    200000
/// yllcorner    700000
/// cellsize     50
/// NODATA_value -9999
/// 10 12.5 9
/// 0 3 4
/// </code>
/// <c>xllcenter</c>/<c>yllcenter</c> may stand for <c>xllcorner</c>/<c>yllcorner</c>; <c>NODATA_value</c> is optional. The
/// grid is read as samples at the cells' centres, <c>cellsize</c> <b>metres</b> apart (the British National Grid's unit),
/// with heights in metres; a sample with the NODATA value is sea, height 0. The map's own coordinates start at 0 at the
/// south-west sample: the file's origin only places it on the national grid.
/// </remarks>
public static class EsriAsciiGrid
{
    /// <summary>Reads the grid in the file at <paramref name="path"/>.</summary>
    /// <exception cref="FormatException">The file is not an ESRI ASCII grid as described; the message says where.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static HeightGrid Read(string path)
    {
        using var reader = new StreamReader(path, Encoding.ASCII, detectEncodingFromByteOrderMarks: true, new FileStreamOptions { BufferSize = 1 << 16 });
        return Read(reader);
    }

    /// <summary>Reads a grid from <paramref name="reader"/>.</summary>
    /// <exception cref="FormatException">The text is not an ESRI ASCII grid as described; the message says where.</exception>
    public static HeightGrid Read(TextReader reader)
    {
        var tokens = new Tokens(reader);
        int columns = (int)tokens.Header("ncols", integer: true);
        int rows = (int)tokens.Header("nrows", integer: true);
        tokens.Header("xllcorner", "xllcenter");
        tokens.Header("yllcorner", "yllcenter");
        double cellSize = tokens.Header("cellsize");
        double? noData = tokens.OptionalHeader("nodata_value");

        if (columns < 2 || rows < 2)
        {
            throw new FormatException($"The grid is {columns} x {rows}; it needs at least 2 x 2 samples.");
        }

        if ((long)columns * rows > Array.MaxLength)
        {
            throw new FormatException($"The grid is {columns} x {rows}, more samples than one array holds; resample it to a coarser cellsize.");
        }

        if (!(cellSize > 0) || !double.IsFinite(cellSize))
        {
            throw new FormatException($"The cellsize is {cellSize}; it must be a positive number of metres.");
        }

        var heights = new float[columns * rows];
        for (int fileRow = 0; fileRow < rows; fileRow++)
        {
            int row = rows - 1 - fileRow; // The file starts in the north; our rows start in the south.
            for (int column = 0; column < columns; column++)
            {
                double value = tokens.Number($"the height in row {fileRow + 1}, column {column + 1}");
                heights[(row * columns) + column] = value == noData ? 0 : (float)value;
            }
        }

        if (tokens.Next() is { } extra)
        {
            throw new FormatException($"The file goes on after its {columns} x {rows} heights (line {tokens.Line}: '{extra}').");
        }

        return new HeightGrid(columns, rows, cellSize / 1000, heights);
    }

    /// <summary>Writes <paramref name="grid"/> to the file at <paramref name="path"/>, origin (0, 0).</summary>
    public static void Write(HeightGrid grid, string path)
    {
        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        Write(grid, writer);
    }

    /// <summary>Writes <paramref name="grid"/> to <paramref name="writer"/>, origin (0, 0); heights round-trip exactly.</summary>
    public static void Write(HeightGrid grid, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(grid);
        CultureInfo invariant = CultureInfo.InvariantCulture;
        writer.Write(string.Create(invariant, $"ncols {grid.Columns}\nnrows {grid.Rows}\nxllcenter 0\nyllcenter 0\ncellsize {grid.Spacing * 1000}\n"));
        for (int row = grid.Rows - 1; row >= 0; row--)
        {
            for (int column = 0; column < grid.Columns; column++)
            {
                if (column > 0)
                {
                    writer.Write(' ');
                }

                writer.Write(grid.Sample(column, row).ToString(invariant)); // The shortest text that reads back as the same float.
            }

            writer.Write('\n');
        }
    }

    /// <summary>Splits the text into words separated by white space, counting lines for error messages.</summary>
    private sealed class Tokens(TextReader reader)
    {
        private readonly StringBuilder _word = new();
        private string? _pushedBack;

        private int _line = 1;

        /// <summary>The line the last word read began on.</summary>
        public int Line { get; private set; } = 1;

        public string? Next()
        {
            if (_pushedBack is { } pushed)
            {
                _pushedBack = null;
                return pushed;
            }

            _word.Clear();
            int c;
            while ((c = reader.Read()) >= 0 && char.IsWhiteSpace((char)c))
            {
                _line += c == '\n' ? 1 : 0;
            }

            Line = _line;

            while (c >= 0 && !char.IsWhiteSpace((char)c))
            {
                if (_word.Length == 64)
                {
                    throw new FormatException($"Line {Line} holds a word longer than 64 characters; this is not an ESRI ASCII grid.");
                }

                _word.Append((char)c);
                c = reader.Read();
            }

            _line += c == '\n' ? 1 : 0;
            return _word.Length == 0 ? null : _word.ToString();
        }

        public double Header(string keyword, string? alternative = null, bool integer = false)
        {
            double? value = OptionalHeader(keyword, alternative, integer);
            return value ?? throw new FormatException(
                $"Line {Line}: expected the header '{keyword}'{(alternative is null ? string.Empty : $" or '{alternative}'")}.");
        }

        public double? OptionalHeader(string keyword, string? alternative = null, bool integer = false)
        {
            string? word = Next();
            if (word is null || !(word.Equals(keyword, StringComparison.OrdinalIgnoreCase) || word.Equals(alternative, StringComparison.OrdinalIgnoreCase)))
            {
                _pushedBack = word;
                return null;
            }

            double value = Number($"the value of '{word}'");
            if (integer && (value != Math.Floor(value) || value < 0 || value > int.MaxValue))
            {
                throw new FormatException($"Line {Line}: '{word}' is {value}; it must be a whole number.");
            }

            return value;
        }

        public double Number(string what)
        {
            string word = Next() ?? throw new FormatException($"The file ends before {what}.");
            if (!double.TryParse(word, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
            {
                throw new FormatException($"Line {Line}: {what} is '{word}', not a number.");
            }

            return value;
        }
    }
}
