using BenNevis.Maps;

namespace BenNevis.Bots;

/// <summary>
/// How a bot looks for the summit. Three kinds play differently: <see cref="RandomSearch"/>, a local climber
/// (<see cref="LocalClimb"/>) and a global method (<see cref="MultiStartClimb"/>).
/// </summary>
public abstract class Strategy
{
    /// <summary>The kinds there are, by name.</summary>
    public static IReadOnlyList<string> Kinds { get; } = ["random", "local", "global"];

    /// <summary>The strategy's short name: random, local or global.</summary>
    public abstract string Kind { get; }

    /// <summary>The strategy of kind <paramref name="kind"/> (one of <see cref="Kinds"/>).</summary>
    /// <exception cref="ArgumentException">No such kind.</exception>
    public static Strategy Create(string kind) => kind switch
    {
        "random" => new RandomSearch(),
        "local" => new LocalClimb(),
        "global" => new MultiStartClimb(),
        _ => throw new ArgumentException($"There is no strategy '{kind}'; there are {string.Join(", ", Kinds)}.", nameof(kind)),
    };

    /// <summary>Plays a match: searches until the budget or the time runs out, then says it is done.</summary>
    /// <param name="match">The bot's seat in the match.</param>
    /// <param name="random">The bot's own random numbers (its seed makes its play reproducible).</param>
    /// <param name="cancellationToken">Stops the search.</param>
    public async Task PlayAsync(IHeightQueries match, SplitMix64 random, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(match);
        ArgumentNullException.ThrowIfNull(random);
        await SearchAsync(new Search(match, cancellationToken), random);
        await match.FinishAsync(cancellationToken);
    }

    /// <summary>The search itself: asks for heights through <paramref name="search"/> until it returns null or this is content.</summary>
    protected abstract Task SearchAsync(Search search, SplitMix64 random);

    /// <summary>Asks for the heights at <paramref name="count"/> random places; returns those answered.</summary>
    protected static async Task<List<Point>> SurveyAsync(Search search, SplitMix64 random, int count)
    {
        var points = new List<Point>(count);
        for (int i = 0; i < count && await search.RandomAsync(random) is { } point; i++)
        {
            points.Add(point);
        }

        return points;
    }
}

/// <summary>Random search: the heights at random places, as many as the budget allows. The baseline.</summary>
public sealed class RandomSearch : Strategy
{
    /// <inheritdoc/>
    public override string Kind => "random";

    /// <inheritdoc/>
    protected override async Task SearchAsync(Search search, SplitMix64 random)
    {
        while (await search.RandomAsync(random) is not null)
        {
        }
    }
}

/// <summary>
/// A local method, hill climbing: a few random heights to find solid ground, then from the highest of them, steps in
/// random directions, taking a step only when it leads up. Steps grow after a success and shrink after a failure (the
/// "one-fifth rule" of evolution strategies), from a few hundred metres to at most <see cref="MaxStep"/> km, so it
/// climbs fast, steps over small bumps, and creeps up to the very top at the end; at a top, once its steps have shrunk
/// to nothing, they grow back and it looks round again. But it never goes down to look elsewhere, so it ends on the
/// top of whichever mountain it began on.
/// </summary>
public sealed class LocalClimb : Strategy
{
    /// <summary>The longest step, km.</summary>
    public const double MaxStep = 15;

    private const int SurveySize = 100;

    /// <inheritdoc/>
    public override string Kind => "local";

    /// <inheritdoc/>
    protected override async Task SearchAsync(Search search, SplitMix64 random)
    {
        await SurveyAsync(search, random, SurveySize);
        if (search.Best is { } best)
        {
            await ClimbAsync(search, random, best, MaxStep, int.MaxValue);
        }
    }

    /// <summary>Climbs from <paramref name="start"/> for at most <paramref name="evaluations"/> heights; returns the top reached.</summary>
    internal static async Task<Point> ClimbAsync(Search search, SplitMix64 random, Point start, double maxStep, int evaluations)
    {
        Point here = start;
        double step = maxStep / 3;
        for (int i = 0; i < evaluations; i++)
        {
            double angle = random.Uniform(0, 2 * Math.PI), length = step * Math.Abs(random.Gaussian());
            if (await search.HeightAsync(here.X + (length * Math.Cos(angle)), here.Y + (length * Math.Sin(angle))) is not { } there)
            {
                break;
            }

            if (there.Metres > here.Metres)
            {
                here = there;
                step = Math.Min(maxStep, step * 1.5);
            }
            else
            {
                // Four failures undo one success: the step holds steady when one step in five leads up. At a top,
                // where every step fails, it shrinks to nothing; then it grows back to look round again.
                step *= 0.9036;
                if (step < 0.02)
                {
                    step = maxStep;
                }
            }
        }

        return here;
    }
}

/// <summary>
/// A global method, multi-start: spends a fifth of the budget on random heights, picks the highest of them that lie far
/// apart (so that each is likely on another mountain), climbs from each as <see cref="LocalClimb"/> does, on a share of
/// half the budget, and spends what is left climbing on, with shorter steps, from the best top found.
/// </summary>
public sealed class MultiStartClimb : Strategy
{
    private const int MaxStarts = 8;
    private const double MinStartDistance = 40; // km

    /// <inheritdoc/>
    public override string Kind => "global";

    /// <inheritdoc/>
    protected override async Task SearchAsync(Search search, SplitMix64 random)
    {
        List<Point> survey = await SurveyAsync(search, random, search.Remaining / 5);
        var starts = new List<Point>();
        foreach (Point point in survey.Where(p => p.Metres > 0).OrderByDescending(p => p.Metres))
        {
            if (starts.Count < MaxStarts && starts.All(s => Math.Sqrt(((s.X - point.X) * (s.X - point.X)) + ((s.Y - point.Y) * (s.Y - point.Y))) >= MinStartDistance))
            {
                starts.Add(point);
            }
        }

        int share = starts.Count == 0 ? 0 : search.Remaining / 2 / starts.Count;
        foreach (Point start in starts)
        {
            await LocalClimb.ClimbAsync(search, random, start, LocalClimb.MaxStep, share);
        }

        if (search.Best is { } best)
        {
            await LocalClimb.ClimbAsync(search, random, best, LocalClimb.MaxStep / 3, int.MaxValue);
        }
    }
}
