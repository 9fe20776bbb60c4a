using BenNevis;
using BenNevis.Bots;
using BenNevis.Maps;
using BenNevis.Matches;
using BenNevis.Messages;
using Microsoft.Extensions.Time.Testing;

namespace Wevis.Samples.Tests;

/// <summary>
/// The match messages over real connections: bots playing through <see cref="NetworkPlayer"/> against a room that
/// carries a <see cref="Match"/>'s rules with <see cref="MatchProtocol"/>, as the match rooms will.
/// </summary>
public class BenNevisNetworkTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly HeightGrid Map = SyntheticBritain.Generate(11, spacing: 2);
    private static readonly MatchRules Rules = new() { Budget = 200 };

    [Fact]
    public async Task BotsPlayAMatchOverTheNetworkAndAllHearTheSameResult()
    {
        var room = new OneMatchRoom(Map, Rules, players: 3, new FakeTimeProvider());
        await using Server server = await StartAsync(room);
        using var cancel = new CancellationTokenSource(Timeout);

        var played = await Task.WhenAll(Strategy.Kinds.Select(async (kind, seat) =>
        {
            await using Client client = await ConnectAsync(server, kind, cancel.Token);
            NetworkPlayer player = await NetworkPlayer.JoinAsync(client, cancel.Token);
            await Strategy.Create(kind).PlayAsync(player, new SplitMix64((ulong)seat + 1), cancel.Token);
            return (player.Opening, Result: await player.ReadResultAsync(cancel.Token));
        }));

        MatchResult result = await room.Finished.Task.WaitAsync(Timeout);
        Assert.All(played, p => Assert.Equal(new MatchOpening(1, 700, 1300, 200, 1, Rules.TimeLimit, 3), p.Opening));
        Assert.Equal(MatchEnd.EveryoneDone, result.End);
        Assert.All(result.Ranking, r => Assert.Equal(200, r.Evaluations));
        foreach ((MatchOpening _, (MatchOver over, IReadOnlyList<PlayerScore> scores)) in played)
        {
            // Every player hears the summit, the winner and the same scores as the rules decided them.
            Assert.Equal(new MatchOver(1, "all done", Map.Summit.X, Map.Summit.Y, Map.Summit.Metres, result.Winner!.Name, 3), over);
            Assert.Equal(result.Ranking.Select(r => (r.Rank, r.Name, r.Best!.Value.Metres, r.EvaluationsToBest)), scores.Select(s => (s.Rank, s.Name, s.Metres, s.EvaluationsToBest)));
        }
    }

    [Fact]
    public async Task APlayerWhoDisconnectsLeavesTheMatchAndKeepsTheirScore()
    {
        var room = new OneMatchRoom(Map, Rules, players: 2, new FakeTimeProvider());
        await using Server server = await StartAsync(room);
        using var cancel = new CancellationTokenSource(Timeout);
        await using Client stayer = await ConnectAsync(server, "stayer", cancel.Token);
        Client leaver = await ConnectAsync(server, "leaver", cancel.Token);
        NetworkPlayer staying = await NetworkPlayer.JoinAsync(stayer, cancel.Token);
        NetworkPlayer leaving = await NetworkPlayer.JoinAsync(leaver, cancel.Token);

        QueryAnswer? only = await leaving.AskAsync(350, 650, cancellationToken: cancel.Token);
        await leaver.DisposeAsync();
        await Strategy.Create("random").PlayAsync(staying, new SplitMix64(1), cancel.Token);
        (MatchOver over, IReadOnlyList<PlayerScore> scores) = await staying.ReadResultAsync(cancel.Token);

        MatchResult result = await room.Finished.Task.WaitAsync(Timeout);
        PlayerResult left = result.Ranking.Single(r => r.Name == "leaver");
        Assert.True(left.Left);
        Assert.Equal((1, only!.Value.Metres), (left.Evaluations, left.Best!.Value.Metres));
        Assert.Equal(2, over.Players);
        Assert.Equal(["stayer", "leaver"], scores.OrderByDescending(s => s.Metres).Select(s => s.Name));
    }

    [Fact]
    public async Task TheMatchRefusesWhatItsRulesRefuse()
    {
        var room = new OneMatchRoom(Map, Rules with { Budget = 2 }, players: 1, new FakeTimeProvider());
        await using Server server = await StartAsync(room);
        await using Client client = await ConnectAsync(server, "ann", CancellationToken.None);
        Assert.IsType<MatchStarted>(await client.ReceiveAsync().AsTask().WaitAsync(Timeout));

        client.Send(new Ask(701, 0, false));
        Assert.Equal(new Refused("Ask: (701, 0) is not on the map, which runs from 0 to 700 km east (x) and 0 to 1300 km north (y)."), await client.ReceiveAsync().AsTask().WaitAsync(Timeout));
        client.Send(new AskMany([1, 2, 3], [1, 2, 3]));
        Assert.Equal(new Refused("AskMany: Asked for 3 heights (3 evaluations) with 2 left in your budget."), await client.ReceiveAsync().AsTask().WaitAsync(Timeout));
        client.Send(new Ask(350, 650, true));
        Answer answer = Assert.IsType<Answer>(await client.ReceiveAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(Map.Measure(350, 650), new Measurement(answer.Metres, answer.East, answer.North));
        Assert.Equal(0, answer.Remaining);

        // The budget is spent: the match is over, and says where the summit was.
        Assert.Equal(new MatchOver(1, "all done", Map.Summit.X, Map.Summit.Y, Map.Summit.Metres, "ann", 1), await client.ReceiveAsync().AsTask().WaitAsync(Timeout));
    }

    private static async Task<Server> StartAsync(Room room)
    {
        var server = new Server(GameRules.Login(GameRules.DefaultPassword), room, new ServerOptions
        {
            Host = "127.0.0.1",
            Port = 0,
            Messages = BenNevis.WevisRegistry.Messages,
        });
        await server.StartAsync().WaitAsync(Timeout);
        return server;
    }

    private static async Task<Client> ConnectAsync(Server server, string name, CancellationToken cancellationToken)
    {
        var client = new Client(name, GameRules.DefaultPassword, GameRules.Version, "127.0.0.1", server.Port, new ClientOptions { Messages = BenNevis.WevisRegistry.Messages });
        await client.ConnectAsync(cancellationToken).WaitAsync(Timeout, cancellationToken);
        return client;
    }

    /// <summary>
    /// One match for the first <paramref name="players"/> users to enter: the wiring a match room will do, in
    /// miniature (no lobby, no ticks).
    /// </summary>
    internal sealed class OneMatchRoom(HeightGrid map, MatchRules rules, int players, TimeProvider time) : Room
    {
        private readonly List<string> _entered = [];
        private Match? _match;

        public TaskCompletionSource<MatchResult> Finished { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override void OnUserEnter(Connection connection)
        {
            _entered.Add(connection.User.Name);
            if (_entered.Count == players)
            {
                _match = new Match(1, map, rules, _entered, time);
                Broadcast(MatchProtocol.Started(_match));
            }
        }

        protected override void Handle(Connection connection, IMessage message)
        {
            if (_match is null)
            {
                connection.Send(new Refused("The match has not started."));
                return;
            }

            if (MatchProtocol.Handle(_match, connection.User.Name, message) is { } reply)
            {
                connection.Send(reply);
            }

            AnnounceIfOver();
        }

        protected override void OnUserLeave(Connection connection)
        {
            _match?.Leave(connection.User.Name);
            AnnounceIfOver();
        }

        private void AnnounceIfOver()
        {
            if (_match is { IsOver: true } && !Finished.Task.IsCompleted)
            {
                foreach (IServerMessage message in MatchProtocol.Over(_match.Result))
                {
                    Broadcast(message);
                }

                Finished.SetResult(_match.Result);
            }
        }
    }
}
