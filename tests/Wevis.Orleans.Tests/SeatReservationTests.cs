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
        for (int i = 0; i < 4; i++)
        {
            Assert.Null(await table.HoldSeat("table", force: false, create: false, "someone").Within());
        }

        Assert.Equal("the room is full (4 users)", await table.HoldSeat("table", force: false, create: false, "someone").Within());

        // Past the timeout the room has them back, and takes others.
        await EventuallyAsync(async () => (await table.Info().Within())!.Count == 0, "the held seats given back");
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
        Assert.Null(await table.HoldSeat("table", force: false, create: false, "ann").Within());
        await EventuallyAsync(async () => (await table.Info().Within())!.Count == 0, "ann's seat given back");
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
        await EventuallyAsync(() => Task.FromResult(anna.Room is not null), "anna in the lobby");

        // The join holds anna's seat at the table, then her gateway's call to enter her fails (as when a node dies
        // between the two): nobody gives that seat back but the room.
        try
        {
            GrainCalls.Failing = "IRoomGrain.Enter";
            await Assert.ThrowsAnyAsync<Exception>(() => anna.JoinRoomAsync(id).Within());
        }
        finally
        {
            GrainCalls.Failing = null;
        }

        await EventuallyAsync(async () => (await table.Info().Within())!.Count == 0, "anna's seat given back");
    }

    private static async Task EventuallyAsync(Func<Task<bool>> holds, string what)
    {
        TimeSpan limit = TimeSpan.FromSeconds(10);
        DateTime deadline = DateTime.UtcNow + limit;
        while (!await holds())
        {
            Assert.True(DateTime.UtcNow < deadline, $"not within {limit.TotalSeconds} s: " + what);
            await Task.Delay(50);
        }
    }
}
