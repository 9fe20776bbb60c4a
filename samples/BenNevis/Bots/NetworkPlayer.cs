using BenNevis.Matches;
using BenNevis.Messages;
using Wevis;

namespace BenNevis.Bots;

/// <summary>
/// A player's seat in a match played on a server: each query is an <see cref="Ask"/> sent over a Wevis
/// <see cref="Client"/>, answered by an <see cref="Answer"/> (or a <see cref="Refused"/>, once the budget or the time is
/// gone). A bot plays through it as through a <see cref="LocalPlayer"/>.
/// </summary>
/// <remarks>
/// Messages that are not answers to its own queries (the end of the match, say) are kept aside, in order, for
/// <see cref="ReadResultAsync"/>. One query at a time: each waits for its answer.
/// </remarks>
public sealed class NetworkPlayer : IHeightQueries
{
    private readonly Client _client;
    private readonly Queue<IMessage> _aside = new();
    private int _remaining;

    private NetworkPlayer(Client client, MatchOpening opening)
    {
        _client = client;
        Opening = opening;
        _remaining = opening.Budget;
    }

    /// <inheritdoc/>
    public MatchOpening Opening { get; }

    /// <inheritdoc/>
    public int Remaining => _remaining;

    /// <summary>
    /// From the lobby, on a logged-in <paramref name="client"/>: asks to play (<see cref="Play"/>) and waits until the
    /// server has seated the player in a match (<see cref="MatchWaiting"/>), which may not have started yet.
    /// </summary>
    /// <exception cref="InvalidOperationException">The server refused: no match could take the player.</exception>
    /// <exception cref="ConnectionClosedException">The connection closed first.</exception>
    public static async Task<MatchWaiting> EnterMatchAsync(Client client, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        client.Send(new Play());
        while (true)
        {
            switch (await client.ReceiveAsync(cancellationToken))
            {
                case MatchWaiting waiting:
                    return waiting;
                case Refused refused:
                    throw new InvalidOperationException(refused.Reason);
            }
        }
    }

    /// <summary>Waits, on a <paramref name="client"/> seated in a match, for the match to start, and sits down in it.</summary>
    /// <exception cref="ConnectionClosedException">The connection closed first.</exception>
    public static async Task<NetworkPlayer> WaitForStartAsync(Client client, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        while (true)
        {
            if (await client.ReceiveAsync(cancellationToken) is MatchStarted started)
            {
                return new NetworkPlayer(client, MatchProtocol.Opening(started));
            }
        }
    }

    /// <inheritdoc/>
    public async ValueTask<QueryAnswer?> AskAsync(double x, double y, bool gradient = false, CancellationToken cancellationToken = default)
    {
        _client.Send(new Ask(x, y, gradient));
        while (true)
        {
            switch (await _client.ReceiveAsync(cancellationToken))
            {
                case Answer answer:
                    _remaining = answer.Remaining;
                    return new QueryAnswer(answer.X, answer.Y, answer.Metres, answer.East, answer.North, answer.Remaining);
                case Refused:
                    _remaining = 0; // Out of budget or time, or the match is over: nothing more will be answered.
                    return null;
                case var other:
                    _aside.Enqueue(other);
                    break;
            }
        }
    }

    /// <inheritdoc/>
    public ValueTask FinishAsync(CancellationToken cancellationToken = default)
    {
        _client.Send(new Done());
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Reads on to the end of the match: its <see cref="MatchOver"/>, the players' scores, best first, and the
    /// leaderboard across matches that follows them.
    /// </summary>
    /// <exception cref="ConnectionClosedException">The connection closed first.</exception>
    public async Task<MatchReport> ReadResultAsync(CancellationToken cancellationToken = default)
    {
        MatchOver? over = null;
        LeaderboardTable? table = null;
        var scores = new List<PlayerScore>();
        var rows = new List<Messages.LeaderboardRow>();
        while (over is null || scores.Count < over.Players || table is null || rows.Count < table.Count)
        {
            IMessage message = _aside.Count > 0 ? _aside.Dequeue() : await _client.ReceiveAsync(cancellationToken);
            switch (message)
            {
                case MatchOver header:
                    over = header;
                    break;
                case PlayerScore score when over is not null:
                    scores.Add(score);
                    break;
                case LeaderboardTable header when over is not null && scores.Count == over.Players:
                    table = header;
                    break;
                case Messages.LeaderboardRow row when table is not null:
                    rows.Add(row);
                    break;
            }
        }

        return new MatchReport(over, scores, rows);
    }
}

/// <summary>The end of a match as a player hears it.</summary>
/// <param name="Over">Why it ended, the summit and the winner.</param>
/// <param name="Scores">Every player's score, best first.</param>
/// <param name="Leaderboard">The leaderboard across matches, this one included, best first.</param>
public sealed record MatchReport(MatchOver Over, IReadOnlyList<PlayerScore> Scores, IReadOnlyList<Messages.LeaderboardRow> Leaderboard);
