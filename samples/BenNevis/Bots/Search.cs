using BenNevis.Maps;

namespace BenNevis.Bots;

/// <summary>
/// A bot's view of its search: asks for heights at places clamped onto the map, remembers the best point found, and
/// says when the budget is spent. Strategies are written against this.
/// </summary>
public sealed class Search(IHeightQueries match, CancellationToken cancellationToken)
{
    private bool _stopped; // The match refused a query: out of budget or time, or over.

    /// <summary>The map's extent west to east, km.</summary>
    public double Width => match.Opening.Width;

    /// <summary>The map's extent south to north, km.</summary>
    public double Length => match.Opening.Length;

    /// <summary>Evaluations left.</summary>
    public int Remaining => _stopped ? 0 : match.Remaining;

    /// <summary>The highest point found so far; null before the first answer.</summary>
    public Point? Best { get; private set; }

    /// <summary>The height at the point of the map nearest to (<paramref name="x"/>, <paramref name="y"/>).</summary>
    /// <returns>The point asked for and its height; null once the match refuses (budget or time gone).</returns>
    public async ValueTask<Point?> HeightAsync(double x, double y)
    {
        if (_stopped)
        {
            return null;
        }

        x = Math.Clamp(x, 0, Width);
        y = Math.Clamp(y, 0, Length);
        if (await match.AskAsync(x, y, gradient: false, cancellationToken) is not { } answer)
        {
            _stopped = true;
            return null;
        }

        var point = new Point(x, y, answer.Metres);
        if (Best is null || point.Metres > Best.Value.Metres)
        {
            Best = point;
        }

        return point;
    }

    /// <summary>The height at a random place on the map.</summary>
    public ValueTask<Point?> RandomAsync(SplitMix64 random) => HeightAsync(random.Uniform(0, Width), random.Uniform(0, Length));
}
