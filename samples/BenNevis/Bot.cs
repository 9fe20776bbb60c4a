using BenNevis.Messages;
using Wevis;

namespace BenNevis;

/// <summary>What a bot made of a game: its guess, and the final leaderboard of the game it guessed in.</summary>
/// <param name="Player">The bot's name.</param>
/// <param name="X">Where it guessed, km east.</param>
/// <param name="Y">Where it guessed, km north.</param>
/// <param name="Height">The height it found there, in metres.</param>
/// <param name="Leaderboard">The game's final standings, best first, as the server sent them.</param>
public sealed record GameResult(string Player, double X, double Y, double Height, IReadOnlyList<Standing> Leaderboard);

/// <summary>
/// A player that needs no human. It surveys the map with one batch of heights, then climbs from the highest few
/// survey points, all climbers together with one batch per step: each looks at eight neighbours around it and moves
/// to the highest, or halves its step when none is higher. It guesses the highest point any climber reached.
/// </summary>
/// <remarks>
/// Leaderboards from other players' guesses can arrive at any time, between the answers to its own requests; the
/// bot reads every message in order and keeps the standings aside until the one it waits for comes.
/// </remarks>
public sealed class Bot
{
    private const int SurveyPointsPerSide = 12;
    private const int ClimberCount = 4;
    private const double SmallestStep = 0.05; // km: half the map's sample spacing.

    private readonly Client _client;
    private int _heightsLeft;
    private List<Standing> _incoming = [];
    private int _incomingCount;
    private bool _incomingIsFinal;
    private IReadOnlyList<Standing>? _finalLeaderboard;

    private Bot(Client client)
    {
        _client = client;
    }

    private string Name => _client.Username;

    /// <summary>Logs in as <paramref name="name"/>, plays one game to its end, and returns how it went.</summary>
    /// <exception cref="LoginRejectedException">The server refused the login (a wrong game password, say).</exception>
    /// <exception cref="WevisException">The connection failed or closed.</exception>
    /// <exception cref="InvalidOperationException">The server refused a request.</exception>
    public static async Task<GameResult> PlayAsync(string name, string host, int port, string password, CancellationToken cancellationToken = default)
    {
        var options = new ClientOptions { Messages = WevisRegistry.Messages };
        await using var client = new Client(name, password, GameRules.Version, host, port, options);
        return await new Bot(client).PlayAsync(cancellationToken);
    }

    private async Task<GameResult> PlayAsync(CancellationToken cancellationToken)
    {
        await _client.ConnectAsync(cancellationToken);
        NewGame game = await ReplyAsync<NewGame>(cancellationToken);
        _heightsLeft = game.Budget;

        Climber best = await ClimbAsync(game.Size, cancellationToken);

        // One last look with a single-point question, then the guess.
        _client.Send(new HeightAt(best.X, best.Y));
        Height top = await ReplyAsync<Height>(cancellationToken);
        _client.Send(new Guess(best.X, best.Y));

        // The game ends when enough players have guessed; its final leaderboard is the first final one with us on it.
        while (_finalLeaderboard?.Any(standing => standing.Name == Name) != true)
        {
            Observe(await _client.ReceiveAsync(cancellationToken));
        }

        return new GameResult(Name, best.X, best.Y, top.Metres, _finalLeaderboard);
    }

    private async Task<Climber> ClimbAsync(double size, CancellationToken cancellationToken)
    {
        // The survey: a grid of points, shifted by a part of a cell that depends on the bot's name.
        var random = new Random(StableHash(Name));
        double cell = size / SurveyPointsPerSide;
        double shiftX = random.NextDouble() * cell, shiftY = random.NextDouble() * cell;
        var survey = new List<(double X, double Y)>();
        for (int i = 0; i < SurveyPointsPerSide; i++)
        {
            for (int j = 0; j < SurveyPointsPerSide; j++)
            {
                survey.Add((shiftX + (i * cell), shiftY + (j * cell)));
            }
        }

        float[] surveyed = await HeightsAsync(survey, cancellationToken);
        List<Climber> climbers = [.. survey
            .Select((point, k) => new Climber(point.X, point.Y, surveyed[k], Step: cell / 2))
            .OrderByDescending(climber => climber.Height)
            .Take(ClimberCount)];

        // The climb: each round, one batch with eight neighbours of every climber still climbing.
        while (true)
        {
            List<int> climbing = [.. Enumerable.Range(0, climbers.Count).Where(k => climbers[k].Step >= SmallestStep)];
            if (climbing.Count == 0 || (climbing.Count * 8) + 1 > _heightsLeft)
            {
                break; // At the top, or out of budget (keeping one height for the last look).
            }

            List<(double X, double Y)> around = [.. climbing.SelectMany(k => Neighbours(climbers[k], size))];
            float[] heights = await HeightsAsync(around, cancellationToken);
            for (int n = 0; n < climbing.Count; n++)
            {
                Climber climber = climbers[climbing[n]];
                int highest = Enumerable.Range(n * 8, 8).MaxBy(k => heights[k]);
                climbers[climbing[n]] = heights[highest] > climber.Height
                    ? climber with { X = around[highest].X, Y = around[highest].Y, Height = heights[highest] }
                    : climber with { Step = climber.Step / 2 };
            }
        }

        return climbers.MaxBy(climber => climber.Height)!;
    }

    private async Task<float[]> HeightsAsync(List<(double X, double Y)> points, CancellationToken cancellationToken)
    {
        _client.Send(new HeightsAt([.. points.Select(p => (float)p.X)], [.. points.Select(p => (float)p.Y)]));
        Heights answer = await ReplyAsync<Heights>(cancellationToken);
        _heightsLeft = answer.Remaining;
        return answer.Metres;
    }

    /// <summary>Reads messages until a <typeparamref name="T"/> comes, noting leaderboards that come first.</summary>
    private async Task<T> ReplyAsync<T>(CancellationToken cancellationToken)
        where T : IMessage
    {
        while (true)
        {
            switch (await _client.ReceiveAsync(cancellationToken))
            {
                case T reply:
                    return reply;
                case Refused(string reason):
                    throw new InvalidOperationException($"The server refused {Name}'s request: {reason}");
                case var other:
                    Observe(other);
                    break;
            }
        }
    }

    /// <summary>Notes a leaderboard: its header, then its standings, which follow it in order.</summary>
    private void Observe(IMessage message)
    {
        switch (message)
        {
            case Leaderboard(int count, bool final):
                _incoming = new List<Standing>(count);
                _incomingCount = count;
                _incomingIsFinal = final;
                break;
            case Standing standing:
                _incoming.Add(standing);
                if (_incoming.Count == _incomingCount && _incomingIsFinal)
                {
                    _finalLeaderboard = _incoming;
                }

                break;
            case Refused(string reason):
                throw new InvalidOperationException($"The server refused {Name}'s request: {reason}");
        }
    }

    private static IEnumerable<(double X, double Y)> Neighbours(Climber climber, double size)
    {
        for (int dx = -1; dx <= 1; dx++)
        {
            for (int dy = -1; dy <= 1; dy++)
            {
                if (dx != 0 || dy != 0)
                {
                    yield return (Math.Clamp(climber.X + (dx * climber.Step), 0, size), Math.Clamp(climber.Y + (dy * climber.Step), 0, size));
                }
            }
        }
    }

    /// <summary>A hash of the name that is the same in every process (string.GetHashCode is not).</summary>
    private static int StableHash(string text)
    {
        uint hash = 2166136261;
        foreach (char c in text)
        {
            hash = (hash ^ c) * 16777619;
        }

        return (int)(hash & 0x7FFFFFFF);
    }

    private sealed record Climber(double X, double Y, double Height, double Step);
}
