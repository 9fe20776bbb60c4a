using System.Globalization;
using Wevis.Tests.Shared;

namespace Wevis.Orleans.Tests;

/// <summary>
/// Seats a room holds for users on their way in, decided elsewhere (a gateway's join or join-or-create, room code's
/// move): given back by the room when the user does not come in time, and counted once when given back twice.
/// </summary>
[Collection("cluster")]
public sealed class SeatReservationTests
{
    /// <summary>Long enough for the tests' few grain calls after a hold, even on a loaded machine; short enough to wait for.</summary>
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task ASeatHeldForAUserWhoNeverComesIsGivenBackAfterTheReservationTimeout()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync(silos: 1, configure: wevis => wevis.SeatReservationTimeout = Timeout);
        string id = await cluster.CreateRoomAsync("table");
        IRoomGrain table = cluster.Cluster.Client.GetGrain<IRoomGrain>(id);

        // Four seats held (the table's capacity) by gateways that then die or fail: the table is full.
        int logged = cluster.Log.Entries.Count;
        for (int i = 0; i < 4; i++)
        {
            Assert.Null(await table.HoldSeat("table", force: false, create: false, "someone").Within());
        }

        Assert.Equal("the room is full (4 users)", await table.HoldSeat("table", force: false, create: false, "someone").Within());

        // Past the timeout the room has them back, and takes others.
        await GivenBackAsync(cluster, id, seats: 4, logged);
        Assert.Equal(0, (await table.Info().Within())!.Count);
        Assert.Null(await table.HoldSeat("table", force: false, create: false, "someone").Within());
        Assert.Equal(1, (await table.Info().Within())!.Count);
    }

    [Fact]
    public async Task ASeatGivenBackTwiceCountsOnce()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync(silos: 1);
        string id = await cluster.CreateRoomAsync("table");
        IRoomGrain table = cluster.Cluster.Client.GetGrain<IRoomGrain>(id);

        // A release made again (its first answer lost), or made after the room gave the seat back itself.
        Assert.Null(await table.HoldSeat("table", force: false, create: false, "someone").Within());
        await table.ReleaseSeat("table", "someone").Within();
        await table.ReleaseSeat("table", "someone").Within();
        Assert.Equal(0, (await table.Info().Within())!.Count);

        // The capacity is still four: a count gone below zero would let a fifth in.
        for (int i = 0; i < 4; i++)
        {
            Assert.Null(await table.HoldSeat("table", force: false, create: false, "someone").Within());
        }

        Assert.Equal("the room is full (4 users)", await table.HoldSeat("table", force: false, create: false, "someone").Within());
    }

    [Fact]
    public async Task ASeatIsTakenOnlyByWhomItWasHeldFor()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync(silos: 1, configure: wevis => wevis.SeatReservationTimeout = Timeout);
        string id = await cluster.CreateRoomAsync("table");
        IRoomGrain table = cluster.Cluster.Client.GetGrain<IRoomGrain>(id);

        // Ann's seat goes back (her gateway was slow); Bob's is held after it.
        int logged = cluster.Log.Entries.Count;
        Assert.Null(await table.HoldSeat("table", force: false, create: false, "ann").Within());
        await GivenBackAsync(cluster, id, seats: 1, logged);
        Assert.Equal(0, (await table.Info().Within())!.Count);
        Assert.Null(await table.HoldSeat("table", force: false, create: false, "bob").Within());

        // Ann's release comes late: it gives back nothing of Bob's.
        await table.ReleaseSeat("table", "ann").Within();
        Assert.Equal(1, (await table.Info().Within())!.Count);
        await table.ReleaseSeat("table", "bob").Within();
        Assert.Equal(0, (await table.Info().Within())!.Count);
    }

    [Fact]
    public async Task AJoinWhoseEntryFailsAfterTheSeatWasHeldGivesTheSeatBack()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync(silos: 1, configure: wevis => wevis.SeatReservationTimeout = Timeout);
        string id = await cluster.CreateRoomAsync("table");
        IRoomGrain table = cluster.Cluster.Client.GetGrain<IRoomGrain>(id);
        await using Client anna = await cluster.ConnectAsync("anna", cluster.Silos[0]);
        await anna.InRoomAsync().Within(what: "anna in the lobby");

        // The join holds anna's seat at the table, then her gateway's call to enter her fails (as when a node dies
        // between the two): the seat comes back, by the gateway's release (event 9041) or else the room's timeout (9036).
        int logged = cluster.Log.Entries.Count;
        try
        {
            GrainCalls.Failing = "IRoomGrain.Enter";
            await Assert.ThrowsAnyAsync<Exception>(() => anna.JoinRoomAsync(id).Within());
        }
        finally
        {
            GrainCalls.Failing = null;
        }

        await GivenBackAsync(cluster, id, seats: 1, logged, released: true);
        Assert.Equal(0, (await table.Info().Within())!.Count);
    }

    /// <summary>
    /// Waits until room <paramref name="id"/> has logged, after the first <paramref name="logged"/> entries, giving back
    /// <paramref name="seats"/> seats in all held for users who did not come in time (event 9036, one entry per timer
    /// run, with its count), and (if <paramref name="released"/>) for one who will not come (9041, one seat). Both are
    /// logged once the seats are given back.
    /// </summary>
    private static Task GivenBackAsync(WevisTestCluster cluster, string id, int seats, int logged, bool released = false) =>
        cluster.Log.WaitUntilAsync(
            entries => entries.Skip(logged)
                .Where(entry => (entry.EventId.Id == 9036 || (released && entry.EventId.Id == 9041)) && entry.Message.StartsWith($"Room {id} gave back ", StringComparison.Ordinal))
                .Sum(entry => entry.EventId.Id == 9041 ? 1 : int.Parse(entry.Message.Split(' ')[4], CultureInfo.InvariantCulture)) >= seats,
            TimeSpan.FromSeconds(10) + Timeout);
}
