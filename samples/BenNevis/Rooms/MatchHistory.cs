using System.Threading.Channels;
using BenNevis.Matches;

namespace BenNevis.Rooms;

/// <summary>A match that has ended, and where its picture was written (null if none was).</summary>
/// <param name="Result">How it went.</param>
/// <param name="MapPath">The full path of its SVG map; null if the server draws none, or the file could not be written.</param>
public sealed record FinishedMatch(MatchResult Result, string? MapPath);

/// <summary>
/// What the server keeps across matches: their numbers, the leaderboard, and the matches that have ended, which a
/// program (or a test) can read as they come.
/// </summary>
/// <remarks>Match rooms call it from their own turns, many at once, so it takes a lock of its own.</remarks>
public sealed class MatchHistory
{
    private readonly Lock _lock = new();
    private readonly Leaderboard _leaderboard = new();
    private readonly Channel<FinishedMatch> _finished = Channel.CreateUnbounded<FinishedMatch>();
    private int _lastNumber;

    /// <summary>The matches that have ended, in the order their maps were written (or failed to be).</summary>
    public ChannelReader<FinishedMatch> Finished => _finished.Reader;

    /// <summary>How many matches have started.</summary>
    public int Started => Volatile.Read(ref _lastNumber);

    /// <summary>The leaderboard across matches now, best first.</summary>
    public IReadOnlyList<LeaderboardRow> Leaderboard()
    {
        lock (_lock)
        {
            return _leaderboard.Rows();
        }
    }

    /// <summary>The number of the match starting now: 1, 2, …</summary>
    internal int NextNumber() => Interlocked.Increment(ref _lastNumber);

    /// <summary>Adds a match that has ended to the leaderboard; returns the leaderboard with it.</summary>
    internal IReadOnlyList<LeaderboardRow> Record(MatchResult result)
    {
        lock (_lock)
        {
            _leaderboard.Record(result);
            return _leaderboard.Rows();
        }
    }

    /// <summary>Tells whoever reads <see cref="Finished"/> that a match has ended and its map is written.</summary>
    internal void Add(FinishedMatch match) => _finished.Writer.TryWrite(match);
}
