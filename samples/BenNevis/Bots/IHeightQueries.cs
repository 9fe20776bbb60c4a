using BenNevis.Matches;

namespace BenNevis.Bots;

/// <summary>
/// What a bot can do in a match: learn the rules it was told at the start, and ask for heights until its budget or
/// the time runs out. A bot plays the same way whether the match runs in its own process (<see cref="LocalPlayer"/>)
/// or on a server at the other end of a connection.
/// </summary>
public interface IHeightQueries
{
    /// <summary>What the match's players were told at its start.</summary>
    MatchOpening Opening { get; }

    /// <summary>Evaluations left.</summary>
    int Remaining { get; }

    /// <summary>The height at (<paramref name="x"/>, <paramref name="y"/>), with the gradient if <paramref name="gradient"/>.</summary>
    /// <returns>The answer, or null if the match refused it (out of budget or time, or the match is over).</returns>
    ValueTask<QueryAnswer?> AskAsync(double x, double y, bool gradient = false, CancellationToken cancellationToken = default);

    /// <summary>Says that this player will ask for nothing more.</summary>
    ValueTask FinishAsync(CancellationToken cancellationToken = default);
}
