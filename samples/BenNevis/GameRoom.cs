using BenNevis.Messages;
using Microsoft.Extensions.Logging;
using Wevis;

namespace BenNevis;

/// <summary>
/// Where the game is played. Players ask for heights, within their budget, and make one guess each; every guess
/// is scored by its distance to the highest point, and the leaderboard goes to everyone in the room. When
/// <see cref="GameRules.Players"/> guesses are in, the game is over and a new one starts on the same map.
/// </summary>
/// <remarks>A room handles one message at a time, so the game's state needs no locks.</remarks>
public sealed partial class GameRoom(Terrain terrain, GameRules rules) : Room
{
    private readonly Dictionary<string, int> _heightsAskedFor = new(StringComparer.Ordinal); // this game's, by player name
    private readonly List<Score> _scores = []; // this game's guesses, in the order they came

    /// <summary>The map being played on.</summary>
    public Terrain Terrain => terrain;

    /// <summary>How many games have ended.</summary>
    public int GamesPlayed { get; private set; }

    /// <inheritdoc/>
    protected override void OnUserEnter(Connection connection)
    {
        connection.Send(NewGameMessage());
        LogEntered(Logger, connection.User.Name);
    }

    /// <inheritdoc/>
    protected override void Handle(Connection connection, IMessage message)
    {
        string player = connection.User.Name;
        switch (message)
        {
            case HeightAt(double x, double y):
                if (CheckOnMap(connection, x, y) && TrySpend(connection, 1))
                {
                    connection.Send(new Height(x, y, terrain.HeightAt(x, y)));
                }

                break;
            case HeightsAt(float[] xs, float[] ys):
                if (xs.Length != ys.Length)
                {
                    Refuse(connection, $"Asked for {xs.Length} x and {ys.Length} y coordinates; give one of each per point.");
                }
                else if (Enumerable.Range(0, xs.Length).All(i => CheckOnMap(connection, xs[i], ys[i])) && TrySpend(connection, xs.Length))
                {
                    var metres = new float[xs.Length];
                    for (int i = 0; i < metres.Length; i++)
                    {
                        metres[i] = (float)terrain.HeightAt(xs[i], ys[i]);
                    }

                    connection.Send(new Heights(metres, HeightsLeft(player)));
                }

                break;
            case Guess(double x, double y):
                if (_scores.Exists(score => score.Player == player))
                {
                    Refuse(connection, "You have already guessed in this game.");
                }
                else if (CheckOnMap(connection, x, y))
                {
                    double distance = terrain.DistanceToPeak(x, y);
                    _scores.Add(new Score(player, distance));
                    LogGuessed(Logger, player, x, y, distance);
                    PublishLeaderboard();
                }

                break;
            default:
                Refuse(connection, $"Players do not send {message.Descriptor.Name}.");
                break;
        }
    }

    /// <summary>Sends the leaderboard to everyone; after the game's last guess, ends the game and starts a new one.</summary>
    private void PublishLeaderboard()
    {
        bool final = _scores.Count >= rules.Players;
        // Every message of a broadcast reaches each player in the order sent, so the standings follow their header.
        Broadcast(new Leaderboard(_scores.Count, final));
        int rank = 0;
        foreach (Score score in _scores.OrderBy(s => s.Distance)) // OrderBy is stable: an equal distance guessed earlier ranks higher.
        {
            Broadcast(new Standing(++rank, score.Player, score.Distance));
        }

        if (final)
        {
            GamesPlayed++;
            LogGameOver(Logger, GamesPlayed, _scores.MinBy(s => s.Distance)!.Player);
            _scores.Clear();
            _heightsAskedFor.Clear();
            Broadcast(NewGameMessage());
        }
    }

    private NewGame NewGameMessage() => new(terrain.Size, rules.Budget, rules.Players);

    private int HeightsLeft(string player) => rules.Budget - _heightsAskedFor.GetValueOrDefault(player);

    private bool TrySpend(Connection connection, int heights)
    {
        string player = connection.User.Name;
        int left = HeightsLeft(player);
        if (heights > left)
        {
            Refuse(connection, $"Asked for {heights} heights with {left} left in your budget.");
            return false;
        }

        _heightsAskedFor[player] = rules.Budget - left + heights;
        return true;
    }

    private bool CheckOnMap(Connection connection, double x, double y)
    {
        if (!terrain.Contains(x, y))
        {
            Refuse(connection, $"({x}, {y}) is not on the map, which runs from 0 to {terrain.Size} km each way.");
            return false;
        }

        return true;
    }

    private void Refuse(Connection connection, string reason)
    {
        connection.Send(new Refused(reason));
        LogRefused(Logger, connection.User.Name, reason);
    }

    private sealed record Score(string Player, double Distance);

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "{Player} joined the game")]
    private static partial void LogEntered(ILogger logger, string player);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "{Player} guessed ({X:0.00}, {Y:0.00}): {Distance:0.00} km from the top")]
    private static partial void LogGuessed(ILogger logger, string player, double x, double y, double distance);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Game {Game} is over; {Winner} won")]
    private static partial void LogGameOver(ILogger logger, int game, string winner);

    [LoggerMessage(EventId = 4, Level = LogLevel.Debug, Message = "Refused {Player}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string player, string reason);
}
