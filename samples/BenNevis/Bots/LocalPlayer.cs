using BenNevis.Matches;

namespace BenNevis.Bots;

/// <summary>A player's seat in a <see cref="Match"/> run in this process: queries go straight to the match's rules.</summary>
/// <param name="match">The match.</param>
/// <param name="name">The player's name in it.</param>
public sealed class LocalPlayer(Match match, string name) : IHeightQueries
{
    /// <inheritdoc/>
    public MatchOpening Opening => match.Opening;

    /// <inheritdoc/>
    public int Remaining => match.Remaining(name);

    /// <inheritdoc/>
    public ValueTask<QueryAnswer?> AskAsync(double x, double y, bool gradient = false, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(match.TryAsk(name, x, y, gradient, out QueryAnswer answer, out _) ? answer : (QueryAnswer?)null);

    /// <inheritdoc/>
    public ValueTask FinishAsync(CancellationToken cancellationToken = default)
    {
        match.Finish(name);
        return ValueTask.CompletedTask;
    }
}
