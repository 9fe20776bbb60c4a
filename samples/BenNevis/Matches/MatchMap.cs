using System.Globalization;
using System.Security;
using System.Text;
using BenNevis.Maps;

namespace BenNevis.Matches;

/// <summary>
/// A picture of a finished match, as SVG: the terrain in colour bands by height (sea blue, then greens, browns and
/// greys up to white), lit from the north-west so slopes show; every player's queries as dots in the player's own
/// colour; each player's best point ringed; the summit as a black triangle; and a legend
/// with the ranking, the winner first.
/// </summary>
/// <remarks>
/// The terrain is drawn from the height at the centre of each cell of a coarse grid (<see cref="CellKm"/> km), as one
/// path per band and shade made of the runs of equal cells along each row, so the file stays a few hundred KB.
/// Elements carry classes for tools and tests: <c>band</c>, <c>queries</c> and <c>best</c> (with <c>data-player</c>), and
/// <c>summit</c>.
/// </remarks>
public static class MatchMap
{
    /// <summary>The size of the terrain's cells, km.</summary>
    public const double CellKm = 4;

    private const double PixelsPerKm = 0.8;
    private const int LegendWidth = 400;

    // Lower bounds of the bands above the sea, m, and their colours (the last band runs to the top).
    private static readonly double[] BandFloors = [0, 50, 100, 200, 300, 400, 500, 650, 800, 1000, 1200];
    private static readonly string[] BandColours =
        ["#4a7bb7", "#6aa45b", "#8cb968", "#b3cc7a", "#d6d88f", "#e0c879", "#c9a463", "#b08850", "#977a64", "#a09a96", "#c9c6c4", "#f4f4f4"];

    private static readonly string[] PlayerColours =
        ["#e6194b", "#4363d8", "#f58231", "#911eb4", "#000000", "#f032e6", "#008080", "#9a6324", "#800000", "#000075", "#ffe119", "#42d4f4"];

    /// <summary>The colour a player is drawn in: by their place in the match's list of players.</summary>
    public static string PlayerColour(int joined) => PlayerColours[joined % PlayerColours.Length];

    /// <summary>Writes the picture of <paramref name="result"/> on <paramref name="map"/> to <paramref name="path"/>.</summary>
    public static void Write(HeightGrid map, MatchResult result, string path) =>
        File.WriteAllText(path, Render(map, result), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));

    /// <summary>The picture of <paramref name="result"/> on <paramref name="map"/>, as SVG text.</summary>
    public static string Render(HeightGrid map, MatchResult result)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(result);
        double width = map.Width * PixelsPerKm, height = map.Length * PixelsPerKm;
        var svg = new StringBuilder(256 * 1024);
        svg.Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width + LegendWidth:0}\" height=\"{height:0}\" viewBox=\"0 0 {width + LegendWidth:0} {height:0}\" font-family=\"sans-serif\" font-size=\"13\">\n"));
        svg.Append(Invariant($"<title>Where is Ben Nevis: match {result.Match}</title>\n"));
        svg.Append(Invariant($"<rect width=\"{width + LegendWidth:0}\" height=\"{height:0}\" fill=\"white\"/>\n"));
        AppendTerrain(svg, map);

        var joined = result.Players.Select((name, k) => (name, k)).ToDictionary(p => p.name, p => p.k, StringComparer.Ordinal);
        svg.Append("<g id=\"players\" fill=\"none\" stroke-linecap=\"round\" stroke-linejoin=\"round\">\n");
        foreach (string name in result.Players)
        {
            IReadOnlyList<Point> trail = result.Trails[name];
            string colour = PlayerColour(joined[name]);
            var d = new StringBuilder(trail.Count * 16);
            foreach (Point query in trail)
            {
                // A zero-length segment drawn with a round cap is a dot.
                d.Append(Invariant($"M{X(query.X):0.#} {Y(query.Y):0.#}h0"));
            }

            string player = SecurityElement.Escape(name);
            svg.Append(Invariant($"<path class=\"queries\" data-player=\"{player}\" data-count=\"{trail.Count}\" stroke=\"{colour}\" stroke-width=\"3.5\" d=\"{d}\"/>\n"));
        }

        foreach (PlayerResult player in result.Ranking.Where(p => p.Best is not null))
        {
            Point best = player.Best!.Value;
            svg.Append(Invariant($"<circle class=\"best\" data-player=\"{SecurityElement.Escape(player.Name)}\" cx=\"{X(best.X):0.#}\" cy=\"{Y(best.Y):0.#}\" r=\"7\" stroke=\"{PlayerColour(joined[player.Name])}\" stroke-width=\"2.5\"/>\n"));
        }

        svg.Append("</g>\n");

        Point summit = result.Summit;
        double sx = X(summit.X), sy = Y(summit.Y);
        svg.Append(Invariant($"<g id=\"summit\"><path class=\"summit\" d=\"M{sx:0.#} {sy - 11:0.#}l9 16h-18z\" fill=\"black\" stroke=\"white\" stroke-width=\"1.5\"/>"));
        svg.Append(Invariant($"<text x=\"{sx + 12:0.#}\" y=\"{sy + 4:0.#}\" font-weight=\"bold\" stroke=\"white\" stroke-width=\"3\" paint-order=\"stroke\">Summit {summit.Metres:0} m</text></g>\n"));

        AppendLegend(svg, result, width, joined);
        svg.Append("</svg>\n");
        return svg.ToString();

        double X(double km) => km * PixelsPerKm;

        double Y(double km) => (map.Length - km) * PixelsPerKm;
    }

    private static void AppendTerrain(StringBuilder svg, HeightGrid map)
    {
        int columns = (int)Math.Ceiling(map.Width / CellKm), rows = (int)Math.Ceiling(map.Length / CellKm);
        // Each band in three shades: slopes facing away from the light, flat ground, slopes facing it.
        var paths = new StringBuilder?[BandColours.Length * 3];
        for (int row = 0; row < rows; row++)
        {
            double y = Math.Min(map.Length, (map.Length - ((row + 0.5) * CellKm)));
            int runStart = 0, runStyle = -1;
            for (int column = 0; column <= columns; column++)
            {
                int style = column < columns ? Style(map.Measure(Math.Min(map.Width, (column + 0.5) * CellKm), Math.Max(0, y))) : -1;
                if (style != runStyle)
                {
                    if (runStyle >= 0)
                    {
                        (paths[runStyle] ??= new StringBuilder()).Append(Invariant($"M{runStart} {row}h{column - runStart}v1h-{column - runStart}z"));
                    }

                    runStart = column;
                    runStyle = style;
                }
            }
        }

        // Drawn in cells, scaled to pixels; crisp edges so neighbouring runs leave no seams.
        svg.Append(Invariant($"<g id=\"terrain\" transform=\"scale({CellKm * PixelsPerKm})\" shape-rendering=\"crispEdges\">\n"));
        for (int style = 0; style < paths.Length; style++)
        {
            if (paths[style] is { } d)
            {
                int band = style / 3, shade = style % 3;
                // A shaded cell is its band's colour darkened (facing away from the light) or lightened (facing it).
                string colour = shade switch { 0 => Mix(BandColours[band], 0x20, 0.25), 2 => Mix(BandColours[band], 0xff, 0.3), _ => BandColours[band] };
                svg.Append(Invariant($"<path class=\"band\" data-band=\"{band}\" fill=\"{colour}\" d=\"{d}\"/>\n"));
            }
        }

        svg.Append("</g>\n");
    }

    /// <summary>The band (by height) and shade (by slope towards the north-west light) of a cell: band * 3 + shade.</summary>
    private static int Style(Measurement ground)
    {
        if (ground.Metres <= 0)
        {
            return 1; // The sea, flat.
        }

        int band = 1;
        while (band < BandColours.Length - 1 && ground.Metres >= BandFloors[band])
        {
            band++;
        }

        double towardsLight = (-ground.East + ground.North) / Math.Sqrt(2); // m per km, uphill towards the north-west
        int shade = towardsLight < -8 ? 2 : towardsLight > 8 ? 0 : 1; // facing the light when the ground falls towards it
        return (band * 3) + shade;
    }

    private static void AppendLegend(StringBuilder svg, MatchResult result, double left, Dictionary<string, int> joined)
    {
        double x = left + 16, y = 30;
        svg.Append("<g id=\"legend\">\n");
        svg.Append(Invariant($"<text x=\"{x:0}\" y=\"{y:0}\" font-size=\"18\" font-weight=\"bold\">Match {result.Match}</text>\n"));
        y += 22;
        string end = result.End == MatchEnd.TimeUp ? "time up" : "all done";
        svg.Append(Invariant($"<text x=\"{x:0}\" y=\"{y:0}\">Ended after {result.Duration.TotalSeconds:0.0} s ({end})</text>\n"));
        y += 20;
        svg.Append(Invariant($"<text x=\"{x:0}\" y=\"{y:0}\">Summit: {result.Summit.Metres:0} m at ({result.Summit.X:0.0}, {result.Summit.Y:0.0}) km</text>\n"));
        y += 30;
        if (result.Winner is { } winner)
        {
            svg.Append(Invariant($"<text id=\"winner\" x=\"{x:0}\" y=\"{y:0}\" font-size=\"15\" font-weight=\"bold\">Winner: {SecurityElement.Escape(winner.Name)}</text>\n"));
            y += 24;
        }

        foreach (PlayerResult player in result.Ranking)
        {
            string best = player.Best is { } b ? Invariant($"{b.Metres:0} m, at evaluation {player.EvaluationsToBest} of {player.Evaluations}") : "nothing found";
            string weight = player.Rank == 1 && player.Best is not null ? " font-weight=\"bold\"" : string.Empty;
            svg.Append(Invariant($"<circle cx=\"{x + 6:0}\" cy=\"{y - 4:0}\" r=\"6\" fill=\"{PlayerColour(joined[player.Name])}\"/>"));
            svg.Append(Invariant($"<text x=\"{x + 18:0}\" y=\"{y:0}\"{weight}>{player.Rank}. {SecurityElement.Escape(player.Name)}: {best}{(player.Left ? " (left)" : string.Empty)}</text>\n"));
            y += 20;
        }

        svg.Append("</g>\n");
    }

    /// <summary>The colour <paramref name="hex"/> (#rrggbb) moved <paramref name="amount"/> of the way to the grey <paramref name="target"/>.</summary>
    private static string Mix(string hex, int target, double amount)
    {
        int rgb = int.Parse(hex.AsSpan(1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        int Channel(int shift) => (int)Math.Round(((rgb >> shift) & 0xff) + ((target - ((rgb >> shift) & 0xff)) * amount));
        return Invariant($"#{Channel(16):x2}{Channel(8):x2}{Channel(0):x2}");
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
