using BenNevis.Maps;
using BenNevis.Matches;
using BenNevis.Messages;
using BenNevis.Rooms;
using Wevis.Testing;

namespace Wevis.Samples.Tests;

/// <summary>
/// The Ben Nevis game server in memory (Wevis.Testing): its lobby and match rooms, made by the program's own factory,
/// run on the in-memory server's fake clock, so rules that take minutes of play are tested in milliseconds.
/// </summary>
public class BenNevisRoomTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private static readonly HeightGrid Map = SyntheticBritain.Generate(11, spacing: 2);
    private static readonly MatchRules Rules = new() { Budget = 10, TimeLimit = TimeSpan.FromMinutes(2) };

    [Fact]
    public async Task AGuessBeforeTheTimeLimitIsAnsweredAndOneAfterItEndsTheMatch()
    {
        var history = new MatchHistory();
        await using InMemoryServer server = Start(Rules, history);
        await using Client ann = await ConnectAsync(server, "ann");
        await EnterMatchAsync(ann);
        MatchStarted started = await ann.WaitForAsync<MatchStarted>(Bound);
        Assert.Equal(120, started.Seconds);

        // A minute and a half in: answered.
        server.Clock.Advance(TimeSpan.FromSeconds(90));
        ann.Send(new Ask(350, 650, false));
        Assert.Equal(9, (await ann.ReceiveAsync<Answer>(Bound)).Remaining);

        // Past two minutes the match's tick ends it; a guess now is refused with why.
        server.Clock.Advance(TimeSpan.FromSeconds(31));
        MatchOver over = await ann.WaitForAsync<MatchOver>(Bound);
        Assert.Equal(1, over.Players);
        FinishedMatch finished = await history.Finished.ReadAsync().AsTask().WaitAsync(Bound);
        Assert.Equal(MatchEnd.TimeUp, finished.Result.End);
    }

    [Fact]
    public async Task TheMatchRefusesWhatItsRulesRefuseWithReasons()
    {
        await using InMemoryServer server = Start(Rules with { Budget = 2 }, new MatchHistory());
        await using Client ann = await ConnectAsync(server, "ann");
        await EnterMatchAsync(ann);
        await ann.WaitForAsync<MatchStarted>(Bound);

        ann.Send(new Ask(701, 0, false));
        Assert.Equal(new Refused("Ask: (701, 0) is not on the map, which runs from 0 to 700 km east (x) and 0 to 1300 km north (y)."), await ann.ReceiveAsync<Refused>(Bound));
        ann.Send(new AskMany([1, 2, 3], [1, 2, 3]));
        Assert.Equal(new Refused("AskMany: Asked for 3 heights (3 evaluations) with 2 left in your budget."), await ann.ReceiveAsync<Refused>(Bound));
    }

    /// <summary>The game server for one-player matches that tick each second, in memory on the server's fake clock.</summary>
    private static InMemoryServer Start(MatchRules rules, MatchHistory history) =>
        InMemoryServer.Start(options => GameServer.Create(new MatchSettings(Map) { Rules = rules, Players = 1, TickInterval = TimeSpan.FromSeconds(1) }, history, options));

    private static async Task EnterMatchAsync(Client client)
    {
        client.Send(new Play());
        await client.WaitForAsync<MatchWaiting>(Bound);
    }

    private static async Task<Client> ConnectAsync(InMemoryServer server, string name) =>
        await server.ConnectAsync(name, GameServer.DefaultPassword, GameServer.Version, new ClientOptions { Messages = BenNevis.WevisRegistry.Messages }).WaitAsync(Bound);
}
