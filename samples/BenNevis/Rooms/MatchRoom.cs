using BenNevis.Matches;
using BenNevis.Messages;
using Wevis;

namespace BenNevis.Rooms;

/// <summary>
/// One match, from the first player joining to the end: it waits for players until it is full or has waited
/// <see cref="MatchSettings.StartWait"/>, then plays a <see cref="Match"/> with whoever is there (one player will do),
/// carrying each player's message to the rules with <see cref="MatchProtocol"/>. It ends when every player is done,
/// out of budget or gone, or on the tick that finds the time up; then it tells the players the result (the summit at
/// last) and the leaderboard, records the match, draws its map, and closes, which sends the players back to the lobby.
/// </summary>
/// <remarks>
/// Players are known by name in the rules: the server lets a name log in once at a time, and a second player of the same
/// name is turned away here. Time is the server's clock (<see cref="Room.Time"/>), so a test drives waits and limits.
/// </remarks>
internal sealed class MatchRoom(MatchSettings settings, MatchHistory history) : Room
{
    private DateTimeOffset _openedAt;
    private Match? _match;
    private bool _ended;

    protected override void OnCreated()
    {
        _openedAt = Time.GetUtcNow();
        StartTicking(settings.TickInterval);
    }

    protected override void OnUserEnter(Connection connection)
    {
        string name = connection.User.Name;
        if (_match is not null)
        {
            // Cannot happen: a started match is locked, and it starts only when no one is on their way in.
            throw new RoomEntryRefusedException($"Match {_match.Id} has started.");
        }

        if (Connections.Count(c => c.User.Name == name) > 1)
        {
            throw new RoomEntryRefusedException($"A player named {name} is already in this match.");
        }

        // Everyone waiting hears how many are here now (the newcomer too: that is their sign they have a place).
        Broadcast(Waiting());
        GameLog.Joined(Logger, name, Id, Count, settings.Players);
        if (Count >= settings.Players || (IsLocked && Arriving() == 0))
        {
            Start();
        }
    }

    protected override async ValueTask HandleAsync(Connection connection, IMessage message)
    {
        if (message is ShowLeaderboard)
        {
            foreach (IServerMessage row in MatchProtocol.Table(history.Leaderboard()))
            {
                connection.Send(row);
            }

            return;
        }

        if (_match is null)
        {
            string reason = $"{message.Descriptor.Name}: the match has not started yet; wait for MatchStarted.";
            connection.Send(new Refused(reason));
            GameLog.Refused(Logger, connection.User.Name, reason);
            return;
        }

        if (MatchProtocol.Handle(_match, connection.User.Name, message) is { } reply)
        {
            connection.Send(reply);
        }

        await EndIfOverAsync();
    }

    protected override async ValueTask OnUserLeaveAsync(Connection connection)
    {
        // A player who disconnects (or asks to leave the room) keeps the score they have; before the start they are
        // simply not in the match, and those still waiting hear that they are fewer.
        if (_match is null)
        {
            Broadcast(Waiting());
        }
        else if (!_match.IsOver)
        {
            _match.Leave(connection.User.Name);
            await EndIfOverAsync();
        }
    }

    protected override async ValueTask OnTickAsync(RoomTick tick)
    {
        if (_match is null)
        {
            if (Count > 0 && Time.GetUtcNow() - _openedAt >= settings.StartWait)
            {
                // Waited long enough: no one new from now on. Someone given a place before the lock may still be on their
                // way in; then the match starts when they arrive (OnUserEnter), so that no one arrives in a match that
                // has begun.
                Lock();
                if (Arriving() == 0)
                {
                    Start();
                }
            }

            return;
        }

        _match.Tick();
        await EndIfOverAsync();
    }

    /// <summary>How many players have been given a place here but have not entered yet (the listing counts both).</summary>
    private int Arriving() => Rooms.List(Type).FirstOrDefault(room => room.Id == Id) is { } info ? Math.Max(0, info.Count - Count) : 0;

    private MatchWaiting Waiting()
    {
        TimeSpan wait = settings.StartWait - (Time.GetUtcNow() - _openedAt);
        return new MatchWaiting(Count, settings.Players, Math.Max(0, wait.TotalSeconds));
    }

    private void Start()
    {
        Lock();
        List<string> players = [.. Connections.Select(c => c.User.Name)];
        _match = new Match(history.NextNumber(), settings.Map, settings.Rules, players, Time);
        Broadcast(MatchProtocol.Started(_match));
        GameLog.Started(Logger, _match.Id, Id, players.Count, string.Join(", ", players));
    }

    private async ValueTask EndIfOverAsync()
    {
        if (_ended || _match is not { IsOver: true })
        {
            return;
        }

        _ended = true;
        StopTicking();
        MatchResult result = _match.Result;
        // Now, and only now, the summit: the result, then the leaderboard with this match in it.
        foreach (IServerMessage message in MatchProtocol.Over(result))
        {
            Broadcast(message);
        }

        foreach (IServerMessage message in MatchProtocol.Table(history.Record(result)))
        {
            Broadcast(message);
        }

        GameLog.Over(Logger, MatchProtocol.Describe(result));
        _ = DrawMapAsync(result);
        await CloseAsync($"match {result.Match} is over");
    }

    /// <summary>Writes the match's SVG map off the room's turn (it takes a while), then tells the history.</summary>
    private async Task DrawMapAsync(MatchResult result)
    {
        string? path = null;
        if (settings.MapsFolder is { } folder)
        {
            path = Path.GetFullPath(Path.Combine(folder, $"match-{result.Match}.svg"));
            try
            {
                await Task.Run(() =>
                {
                    System.IO.Directory.CreateDirectory(folder);
                    MatchMap.Write(settings.Map, result, path);
                });
                GameLog.MapWritten(Logger, result.Match, path);
            }
            catch (Exception ex)
            {
                // Nothing waits on this task: a failure is logged, and the match is still reported, without a map.
                GameLog.MapFailed(Logger, ex, result.Match, path);
                path = null;
            }
        }

        history.Add(new FinishedMatch(result, path));
    }
}
