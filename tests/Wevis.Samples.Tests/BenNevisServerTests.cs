using System.Xml.Linq;
using BenNevis.Bots;
using BenNevis.Maps;
using BenNevis.Matches;
using BenNevis.Messages;
using BenNevis.Rooms;
using Microsoft.Extensions.Time.Testing;

namespace Wevis.Samples.Tests;

/// <summary>
/// samples/BenNevis/Rooms: the game server over real connections, on a fake clock: the lobby puts players into matches
/// (join-or-create), a match starts when full or after its wait, ends on budgets, the time limit or everyone gone, tells
/// the result only then, records it on the leaderboard and draws its map.
/// </summary>
public sealed class BenNevisServerTests : IAsyncDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private static readonly HeightGrid Map = SyntheticBritain.Generate(11, spacing: 2);
    private static readonly MatchRules Rules = new() { Budget = 50, TimeLimit = TimeSpan.FromMinutes(2) };
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 5, 9, 0, 0, TimeSpan.Zero));
    private readonly MatchHistory _history = new();
    private readonly List<IAsyncDisposable> _disposables = [];

    [Fact]
    public async Task AMatchStartsAsSoonAsItIsFullAndTheNextPlayersOpenAnotherPlayedAtTheSameTime()
    {
        Server server = await StartAsync(new MatchSettings(Map) { Rules = Rules, Players = 3, StartWait = TimeSpan.FromMinutes(10) });
        Client[] first = await ConnectAsync(server, "ann", "ben", "cat");

        MatchWaiting[] seated = [.. await Task.WhenAll(first.Select(c => EnterAsync(c)))];

        // No time passes: the third player fills the match, which starts at once.
        Assert.Equal([1, 2, 3], seated.Select(s => s.Players).Order());
        Assert.All(seated, s => Assert.Equal(3, s.Capacity));
        NetworkPlayer[] firstPlayers = await Task.WhenAll(first.Select(StartedAsync));
        Assert.All(firstPlayers, p => Assert.Equal(new MatchOpening(1, 700, 1300, 50, 1, Rules.TimeLimit, 3), p.Opening));

        // The next player finds no place in it (full and locked) and opens another, which waits.
        Client[] second = await ConnectAsync(server, "dan", "eve", "fay");
        Assert.Equal(new MatchWaiting(1, 3, 600), await EnterAsync(second[0]));
        second[0].Send(new Ask(1, 1, false));
        Assert.Equal(new Refused("Ask: the match has not started yet; wait for MatchStarted."), await Receive<Refused>(second[0]));
        await EnterAsync(second[1]);
        await EnterAsync(second[2]);
        NetworkPlayer[] secondPlayers = await Task.WhenAll(second.Select(StartedAsync));
        Assert.All(secondPlayers, p => Assert.Equal(2, p.Opening.Match));
        Assert.Equal(2, server.Rooms.List(GameServer.MatchType).Count(room => room.IsLocked && room.Count == 3));

        // Two matches at once: each player's match ends with its own players' scores.
        MatchReport[] reports = await Task.WhenAll(firstPlayers.Concat(secondPlayers).Select((p, seat) => PlayAsync(p, "random", seat)));
        Assert.Equal([1, 1, 1, 2, 2, 2], reports.Select(r => r.Over.Match));
        Assert.All(reports.Take(3), r => Assert.Equal(["ann", "ben", "cat"], r.Scores.Select(s => s.Name).Order()));
        Assert.All(reports.Skip(3), r => Assert.Equal(["dan", "eve", "fay"], r.Scores.Select(s => s.Name).Order()));
    }

    [Fact]
    public async Task AMatchThatIsNotFullStartsAfterTheWaitWithWhoeverIsThere()
    {
        Server server = await StartAsync(new MatchSettings(Map) { Rules = Rules, Players = 4, StartWait = TimeSpan.FromSeconds(10), TickInterval = TimeSpan.FromSeconds(1) });
        Client[] clients = await ConnectAsync(server, "ann", "ben");
        Assert.Equal(new MatchWaiting(1, 4, 10), await EnterAsync(clients[0]));
        Assert.Equal(new MatchWaiting(2, 4, 10), await EnterAsync(clients[1]));
        Assert.Equal(new MatchWaiting(2, 4, 10), await Receive<MatchWaiting>(clients[0])); // ann hears ben come

        _clock.Advance(TimeSpan.FromSeconds(9));
        clients[0].Send(new Ask(1, 1, false));
        Assert.IsType<Refused>(await Receive<IMessage>(clients[0])); // Not yet.
        _clock.Advance(TimeSpan.FromSeconds(1));

        NetworkPlayer[] players = await Task.WhenAll(clients.Select(StartedAsync));
        Assert.All(players, p => Assert.Equal(2, p.Opening.Players));
        // A player who comes now is not let into the match that has begun: they wait in a new one.
        Client late = (await ConnectAsync(server, "cat"))[0];
        Assert.Equal(new MatchWaiting(1, 4, 10), await EnterAsync(late));
    }

    [Fact]
    public async Task ALonePlayerPlaysAloneUntilTheirBudgetIsSpentAndIsBackInTheLobby()
    {
        Server server = await StartAsync(new MatchSettings(Map) { Rules = Rules, Players = 4, StartWait = TimeSpan.FromSeconds(5) });
        Client ann = (await ConnectAsync(server, "ann"))[0];
        await EnterAsync(ann);
        Task<RoomChangedEventArgs> backInTheLobby = NextRoomChange(ann, RoomDirectory.EntryRoomName);

        _clock.Advance(TimeSpan.FromSeconds(5));
        NetworkPlayer player = await StartedAsync(ann);
        MatchReport report = await PlayAsync(player, "global", 1);

        Assert.Equal(1, player.Opening.Players);
        Assert.Equal(("all done", "ann"), (report.Over.Reason, report.Over.Winner));
        PlayerScore score = Assert.Single(report.Scores);
        Assert.Equal(50, score.Evaluations);
        Assert.Equal(new BenNevis.Messages.LeaderboardRow(1, "ann", 1, 1, score.Metres, score.Metres), Assert.Single(report.Leaderboard));
        Assert.Equal("the room match-1 was closed: match 1 is over", (await backInTheLobby.WaitAsync(Bound)).Reason);
    }

    [Fact]
    public async Task TheTimeLimitEndsTheMatchOnATickWithoutAnyQuery()
    {
        MatchRules rules = Rules with { TimeLimit = TimeSpan.FromSeconds(60) };
        Server server = await StartAsync(new MatchSettings(Map) { Rules = rules, Players = 2, TickInterval = TimeSpan.FromSeconds(1) });
        Client[] clients = await ConnectAsync(server, "ann", "ben");
        NetworkPlayer[] players = await JoinAndStartAsync(clients);
        QueryAnswer? answer = await players[0].AskAsync(350, 650);

        _clock.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(48, (await players[0].AskAsync(351, 650))?.Remaining); // Still on.
        Task<RoomChangedEventArgs> benBack = NextRoomChange(clients[1], RoomDirectory.EntryRoomName);
        _clock.Advance(TimeSpan.FromSeconds(1));

        // Neither asks again: the tick finds the time up, and both hear it.
        foreach (NetworkPlayer player in players)
        {
            Assert.Equal("time up", (await player.ReadResultAsync().WaitAsync(Bound)).Over.Reason);
        }

        await benBack.WaitAsync(Bound);
        clients[1].Send(new Ask(1, 1, false));
        Assert.Equal(new Refused("Ask: you are in the lobby; send Play to join a match."), await Receive<Refused>(clients[1]));
        FinishedMatch finished = await NextFinishedAsync();
        Assert.Equal(MatchEnd.TimeUp, finished.Result.End);
        Assert.Equal(TimeSpan.FromSeconds(60), finished.Result.Duration);
        Assert.True(answer!.Value.Metres <= finished.Result.Ranking.Single(r => r.Name == "ann").Best!.Value.Metres);
        Assert.Equal(0, finished.Result.Ranking.Single(r => r.Name == "ben").Evaluations);
    }

    [Fact]
    public async Task APlayerWhoDisconnectsLeavesCleanlyAndKeepsTheirScore()
    {
        Server server = await StartAsync(new MatchSettings(Map) { Rules = Rules, Players = 3, StartWait = TimeSpan.FromSeconds(10), TickInterval = TimeSpan.FromSeconds(1) });

        // Before the start: the one who goes is simply not in the match, and those waiting hear so.
        Client[] waiting = await ConnectAsync(server, "dan", "eve");
        await EnterAsync(waiting[0]);
        await EnterAsync(waiting[1]);
        await Receive<MatchWaiting>(waiting[0]);
        await waiting[1].DisposeAsync();
        Assert.Equal(new MatchWaiting(1, 3, 10), await Receive<MatchWaiting>(waiting[0]));
        _clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(1, (await StartedAsync(waiting[0])).Opening.Players);

        // During the match: cat asks once and goes; the match ends when the two others are done, without waiting for
        // the time limit, and cat's one height is cat's score.
        Client[] clients = await ConnectAsync(server, "ann", "ben", "cat");
        await JoinAndStartAsync(clients);
        clients[2].Send(new Ask(350, 650, false));
        Answer only = await Receive<Answer>(clients[2]);
        await clients[2].DisposeAsync();
        clients[0].Send(new Done());
        clients[1].Send(new Done());

        MatchOver over = await Receive<MatchOver>(clients[0]);
        Assert.Equal(("all done", "cat", 3), (over.Reason, over.Winner, over.Players));
        PlayerResult cat = (await NextFinishedAsync()).Result.Ranking.Single(r => r.Name == "cat");
        Assert.Equal((true, 1, only.Metres), (cat.Left, cat.Evaluations, cat.Best!.Value.Metres));

        // And when the last player still playing goes, the match ends for those who are done.
        Client[] pair = await ConnectAsync(server, "fay", "gus", "hal");
        Client fay = pair[0];
        await JoinAndStartAsync(pair);
        foreach (Client done in pair[..2])
        {
            done.Send(new Done());
            done.Send(new ShowLeaderboard()); // Answered after the Done is handled.
            await ReadLeaderboardAsync(done);
        }

        await pair[2].DisposeAsync();
        Assert.Equal("all done", (await Receive<MatchOver>(fay)).Reason);
    }

    [Fact]
    public async Task ScoresAddUpAcrossMatchesOnTheLeaderboard()
    {
        Server server = await StartAsync(new MatchSettings(Map) { Rules = Rules, Players = 2 });
        Client[] clients = await ConnectAsync(server, "ann", "ben");
        var reports = new List<MatchReport[]>();
        (double X, double Y)[][] places = [[(350, 650), (100, 100)], [(300, 1000), (420, 880)]];
        for (int round = 0; round < 2; round++)
        {
            // After a match the players are back in the lobby, where Play puts them into the next.
            NetworkPlayer[] players = await JoinAndStartAsync(clients);
            reports.Add(await Task.WhenAll(players.Select(async (player, seat) =>
            {
                Assert.NotNull(await player.AskAsync(places[round][seat].X, places[round][seat].Y));
                await player.FinishAsync();
                return await player.ReadResultAsync().WaitAsync(Bound);
            })));
        }

        clients[0].Send(new ShowLeaderboard());
        List<BenNevis.Messages.LeaderboardRow> rows = await ReadLeaderboardAsync(clients[0]);

        // Each player's line is what their two scores add up to; the table after the second match said the same.
        IEnumerable<PlayerScore> scores = reports.Select(r => r[0].Scores).SelectMany(s => s);
        var expected = scores.GroupBy(s => s.Name).Select(g => (Name: g.Key, Matches: g.Count(), Wins: g.Count(s => s.Rank == 1), Mean: g.Average(s => s.Metres), Best: g.Max(s => s.Metres)));
        Assert.Equal(
            expected.OrderByDescending(e => e.Mean).Select(e => (e.Name, e.Matches, e.Wins, Math.Round(e.Mean, 9), e.Best)),
            rows.Select(r => (r.Name, r.Matches, r.Wins, Math.Round(r.MeanMetres, 9), r.BestMetres)));
        Assert.Equal(2, rows.Sum(r => r.Wins));
        Assert.Equal(rows, reports[1][0].Leaderboard);
        Assert.Equal(rows, reports[1][1].Leaderboard);
    }

    [Fact]
    public async Task NothingAboutTheSummitReachesAPlayerBeforeTheMatchIsOver()
    {
        Server server = await StartAsync(new MatchSettings(Map) { Rules = Rules, Players = 1 });
        Client ann = (await ConnectAsync(server, "ann"))[0];
        Point summit = Map.Summit;

        // Everything ann is sent from the lobby to the end: waiting, the start, answers (with gradients), a batch,
        // refusals, the leaderboard; she asks only away from the summit, so no number in them may be its x, y or height.
        ann.Send(new Play());
        ann.Send(new Ask(351.3, 651.7, true));
        ann.Send(new AskMany([101.1, 202.2], [303.3, 404.4]));
        ann.Send(new Ask(-1, 0, false));
        ann.Send(new ShowLeaderboard());
        ann.Send(new Done());
        var received = new List<IMessage>();
        IMessage message;
        while ((message = await Receive<IMessage>(ann)) is not MatchOver)
        {
            received.Add(message);
        }

        Assert.Equal(
            [typeof(MatchWaiting), typeof(MatchStarted), typeof(Answer), typeof(Answers), typeof(Refused), typeof(LeaderboardTable)],
            received.Select(m => m.GetType()));
        foreach (IMessage before in received)
        {
            Assert.DoesNotContain(NumbersIn(before), n => n == summit.X || n == summit.Y || n == summit.Metres);
        }

        // Then, at last, where it is.
        var over = (MatchOver)message;
        Assert.Equal((summit.X, summit.Y, summit.Metres), (over.SummitX, over.SummitY, over.SummitMetres));
    }

    [Fact]
    public async Task EachMatchWritesItsMapWithEveryPlayersQueriesAndTheSummit()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"bennevis-maps-{Guid.NewGuid():N}");
        try
        {
            Server server = await StartAsync(new MatchSettings(Map) { Rules = Rules, Players = 3, MapsFolder = folder });
            NetworkPlayer[] players = await JoinAndStartAsync(await ConnectAsync(server, "ann", "ben", "cat"));
            MatchReport[] reports = await Task.WhenAll(players.Select((p, seat) => PlayAsync(p, Strategy.Kinds[seat], seat)));

            FinishedMatch finished = await NextFinishedAsync();

            Assert.Equal(Path.Combine(folder, "match-1.svg"), finished.MapPath);
            XDocument svg = XDocument.Load(finished.MapPath!);
            foreach (string name in new[] { "ann", "ben", "cat" })
            {
                // One set of points per player: a dot for each of their 50 queries.
                XElement queries = Assert.Single(svg.Descendants(Svg + "path"), p => (string?)p.Attribute("class") == "queries" && (string?)p.Attribute("data-player") == name);
                Assert.Equal(50, ((string)queries.Attribute("d")!).Count(c => c == 'M'));
            }

            Assert.Single(svg.Descendants(Svg + "path"), p => (string?)p.Attribute("class") == "summit");
            Assert.Equal($"Winner: {reports[0].Over.Winner}", svg.Descendants(Svg + "text").Single(t => (string?)t.Attribute("id") == "winner").Value);
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    [Fact]
    public async Task AWrongPasswordAndAPlayThatFindsNoRoomAreRefusedWithTheirReasons()
    {
        Server server = await StartAsync(new MatchSettings(Map) { Rules = Rules }, maxRooms: 1);

        LoginRejectedException rejected = await Assert.ThrowsAsync<LoginRejectedException>(
            () => NetworkBot.PlayAsync("intruder", "random", 1, "127.0.0.1", server.Port, "guess").WaitAsync(Bound));
        Assert.Equal("Wrong game password.", rejected.Reason);

        // The lobby is the one room the server allows: no match can be made.
        Client ann = (await ConnectAsync(server, "ann"))[0];
        InvalidOperationException refused = await Assert.ThrowsAsync<InvalidOperationException>(() => EnterAsync(ann));
        Assert.Equal("Play: no match could take you: the server has the most rooms it allows (1).", refused.Message);
    }

    public async ValueTask DisposeAsync()
    {
        for (int i = _disposables.Count - 1; i >= 0; i--)
        {
            await _disposables[i].DisposeAsync();
        }
    }

    private static IEnumerable<double> NumbersIn(IMessage message) =>
        message.GetType().GetProperties().Where(p => p.DeclaringType == message.GetType()).SelectMany(p => p.GetValue(message) switch
        {
            double d => [d],
            double[] ds => ds,
            _ => Array.Empty<double>(),
        });

    private static async Task<NetworkPlayer[]> JoinAndStartAsync(Client[] clients)
    {
        await Task.WhenAll(clients.Select(EnterAsync));
        return await Task.WhenAll(clients.Select(StartedAsync));
    }

    private static async Task<MatchWaiting> EnterAsync(Client client) => await NetworkPlayer.EnterMatchAsync(client).WaitAsync(Bound);

    private static async Task<NetworkPlayer> StartedAsync(Client client) => await NetworkPlayer.WaitForStartAsync(client).WaitAsync(Bound);

    private static async Task<MatchReport> PlayAsync(NetworkPlayer player, string kind, int seat)
    {
        using var cancel = new CancellationTokenSource(Bound);
        await Strategy.Create(kind).PlayAsync(player, new BenNevis.SplitMix64((ulong)seat + 1), cancel.Token);
        return await player.ReadResultAsync(cancel.Token).WaitAsync(Bound);
    }

    private static async Task<List<BenNevis.Messages.LeaderboardRow>> ReadLeaderboardAsync(Client client)
    {
        LeaderboardTable table = await Receive<LeaderboardTable>(client);
        var rows = new List<BenNevis.Messages.LeaderboardRow>();
        for (int i = 0; i < table.Count; i++)
        {
            rows.Add(await Receive<BenNevis.Messages.LeaderboardRow>(client));
        }

        return rows;
    }

    private static async Task<T> Receive<T>(Client client)
        where T : IMessage => await client.ReceiveAsync<T>().AsTask().WaitAsync(Bound);

    private static Task<RoomChangedEventArgs> NextRoomChange(Client client, string room)
    {
        var changed = new TaskCompletionSource<RoomChangedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.RoomChanged += (_, args) =>
        {
            if (args.Room.Id == room)
            {
                changed.TrySetResult(args);
            }
        };
        return changed.Task;
    }

    private async Task<Server> StartAsync(MatchSettings settings, int maxRooms = 100)
    {
        // Pings off: the fake clock jumps seconds at a time, while a ping's answer takes real time to arrive.
        Server server = GameServer.Create(
            settings, _history, new ServerOptions { Host = "127.0.0.1", Port = 0, TimeProvider = _clock, PingInterval = TimeSpan.FromDays(1), MaxRooms = maxRooms });
        _disposables.Add(server);
        await server.StartAsync().WaitAsync(Bound);
        return server;
    }

    private async Task<Client[]> ConnectAsync(Server server, params string[] names)
    {
        var clients = new Client[names.Length];
        for (int i = 0; i < names.Length; i++)
        {
            clients[i] = GameServer.CreateClient(names[i], "127.0.0.1", server.Port);
            _disposables.Add(clients[i]);
            await clients[i].ConnectAsync().WaitAsync(Bound);
        }

        return clients;
    }

    private async Task<FinishedMatch> NextFinishedAsync() => await _history.Finished.ReadAsync().AsTask().WaitAsync(Bound);
}
