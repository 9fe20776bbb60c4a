using BenNevis;
using BenNevis.Maps;
using BenNevis.Matches;
using BenNevis.Messages;
using Microsoft.Extensions.Time.Testing;
using Wevis.Testing;

namespace Wevis.Samples.Tests;

/// <summary>
/// A Ben Nevis match room in memory (Wevis.Testing), its time limit on a fake clock shared by the room and the server: rules
/// that take minutes of play are tested in milliseconds.
/// </summary>
public class BenNevisRoomTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private static readonly HeightGrid Map = SyntheticBritain.Generate(11, spacing: 2);
    private static readonly MatchRules Rules = new() { Budget = 10, TimeLimit = TimeSpan.FromMinutes(2) };

    [Fact]
    public async Task AGuessBeforeTheTimeLimitIsAnsweredAndOneAfterItEndsTheMatch()
    {
        await using InMemoryServer server = Start(players: 1, out BenNevisNetworkTests.OneMatchRoom room, out FakeTimeProvider clock);
        await using Client ann = await ConnectAsync(server, "ann");
        MatchStarted started = await ann.ReceiveAsync<MatchStarted>(Bound);
        Assert.Equal(120, started.Seconds);

        // A minute and a half in: answered.
        clock.Advance(TimeSpan.FromSeconds(90));
        ann.Send(new Ask(350, 650, false));
        Assert.Equal(9, (await ann.ReceiveAsync<Answer>(Bound)).Remaining);

        // Past two minutes: the match is over, and the guess is refused with why.
        clock.Advance(TimeSpan.FromSeconds(31));
        ann.Send(new Ask(100, 100, false));
        Assert.Equal(new Refused("Ask: Time is up: match 1 lasted its 120 s."), await ann.ReceiveAsync<Refused>(Bound));
        MatchOver over = await ann.WaitForAsync<MatchOver>(Bound);
        Assert.Equal(1, over.Players);
        Assert.Equal(MatchEnd.TimeUp, (await room.Finished.Task.WaitAsync(Bound)).End);
    }

    [Fact]
    public async Task TheMatchRefusesWhatItsRulesRefuseWithReasons()
    {
        await using InMemoryServer server = Start(players: 1, out _, out _, Rules with { Budget = 2 });
        await using Client ann = await ConnectAsync(server, "ann");
        await ann.ReceiveAsync<MatchStarted>(Bound);

        ann.Send(new Ask(701, 0, false));
        Assert.Equal(new Refused("Ask: (701, 0) is not on the map, which runs from 0 to 700 km east (x) and 0 to 1300 km north (y)."), await ann.ReceiveAsync<Refused>(Bound));
        ann.Send(new AskMany([1, 2, 3], [1, 2, 3]));
        Assert.Equal(new Refused("AskMany: Asked for 3 heights (3 evaluations) with 2 left in your budget."), await ann.ReceiveAsync<Refused>(Bound));
    }

    /// <summary>A one-match room in memory; the room's match and the server run on one fake clock, the test's.</summary>
    private static InMemoryServer Start(int players, out BenNevisNetworkTests.OneMatchRoom room, out FakeTimeProvider clock, MatchRules? rules = null)
    {
        clock = new FakeTimeProvider();
        room = new BenNevisNetworkTests.OneMatchRoom(Map, rules ?? Rules, players, clock);
        return InMemoryServer.Start(GameRules.Login(GameRules.DefaultPassword), room, new ServerOptions { Messages = BenNevis.WevisRegistry.Messages, TimeProvider = clock });
    }

    private static async Task<Client> ConnectAsync(InMemoryServer server, string name) =>
        await server.ConnectAsync(name, GameRules.DefaultPassword, GameRules.Version, new ClientOptions { Messages = BenNevis.WevisRegistry.Messages }).WaitAsync(Bound);
}
