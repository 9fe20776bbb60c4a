using Orleans.TestingHost;
using Wevis.Orleans.Tests.Messages;
using Wevis.Tests.Shared;

namespace Wevis.Orleans.Tests;

/// <summary>The room directory across the cluster: find, list, create, close and join-or-create from any node.</summary>
[Collection("cluster")]
public sealed class DirectoryTests
{
    [Fact]
    public async Task ARoomMadeOnOneNodeIsFoundAndListedWithItsCountsFromEveryNodeAndFromARoomElsewhere()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync();
        await using Client watcher = await cluster.ConnectAsync("watcher", cluster.Silos[0]);
        InProcessSiloHandle lobbyHost = cluster.HostOf("lobby")!;

        // Made by server code on a node other than the lobby's: the room is on that node.
        InProcessSiloHandle maker = cluster.Silos.First(silo => silo != lobbyHost);
        Room general = await maker.ServiceProvider.GetWevisRooms().CreateAsync("chat", "chat-general").Within();
        Assert.Equal("chat-general", general.Id);
        Assert.Equal(maker.SiloAddress, cluster.HostOf("chat-general")?.SiloAddress);

        await using Client anna = await cluster.ConnectAsync("anna", cluster.Silos[1]);
        await using Client bert = await cluster.ConnectAsync("bert", cluster.Silos[2]);
        Task reported = ReportedAsync("chat-general", count: 2, locked: false);
        await anna.JoinRoomAsync("chat-general").Within();
        await bert.JoinRoomAsync("chat-general").Within();

        await SeenEverywhereAsync(cluster, watcher, "chat-general", count: 2, locked: false, reported);

        // A lock, then a leave, are seen everywhere too.
        reported = ReportedAsync("chat-general", count: 2, locked: true);
        await general.InvokeAsync(general.Lock).Within();
        await SeenEverywhereAsync(cluster, watcher, "chat-general", count: 2, locked: true, reported);
        reported = ReportedAsync("chat-general", count: 1, locked: true);
        await bert.LeaveRoomAsync().Within();
        await SeenEverywhereAsync(cluster, watcher, "chat-general", count: 1, locked: true, reported);

        // Every room, every node: the lobby (with the watcher and bert) and the chat room.
        foreach (InProcessSiloHandle silo in cluster.Silos)
        {
            IReadOnlyList<RoomInfo> all = await silo.ServiceProvider.GetWevisRooms().ListAsync().Within();
            Assert.Equal(["chat-general", "lobby"], all.Select(info => info.Id));
            Assert.Equal(2, all.Single(info => info.Id == "lobby").Count);
            Assert.Null(await silo.ServiceProvider.GetWevisRooms().FindAsync("chat-nowhere").Within());
        }
    }

    [Fact]
    public async Task JoinOrCreateAmongTwoHundredFullRoomsAsksOneRoomNotEach()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync(configure: KeepHeldSeats);
        IRoomTypeGrain tables = cluster.Cluster.Client.GetGrain<IRoomTypeGrain>("table");
        const int Full = 200;
        for (int batch = 0; batch < Full; batch += 20)
        {
            await Task.WhenAll(Enumerable.Range(batch, 20).Select(_ => FillTableAsync(cluster))).Within(TimeSpan.FromSeconds(30));
        }

        await using Client client = await cluster.ConnectAsync("late", cluster.Silos[1]);
        GrainCalls.Reset();
        ClientRoom room = await client.JoinOrCreateRoomAsync("table").Within();
        Assert.Equal($"table-{Full + 1}", room.Id);
        Dictionary<string, int> roomCalls = GrainCalls.To("IRoomGrain");
        Dictionary<string, int> typeCalls = GrainCalls.To("IRoomTypeGrain");
        Assert.Equal(1, typeCalls.GetValueOrDefault("IRoomTypeGrain.JoinOrCreate"));

        // A seat in the new room, the user's enter there and leave from the lobby: not a call to each full room.
        Assert.True(roomCalls.Values.Sum() <= 4, "calls to rooms: " + string.Join(", ", roomCalls.Select(c => $"{c.Key}={c.Value}")));

        // A place opens in an old room: the next join-or-create fills it, again with one seat asked for.
        Task reported = GrainCalls.Listed("table-57", listing => listing.Info.Count == 3);
        await cluster.Cluster.Client.GetGrain<IRoomGrain>("table-57").ReleaseSeat("table", null).Within();
        await reported.Within(what: "table-57's report of 3 users to the directory");
        Assert.Equal(3, (await tables.Find("table-57").Within())?.Count);
        await using Client other = await cluster.ConnectAsync("other", cluster.Silos[2]);
        GrainCalls.Reset();
        Assert.Equal("table-57", (await other.JoinOrCreateRoomAsync("table").Within()).Id);
        Assert.Equal(1, GrainCalls.To("IRoomGrain").GetValueOrDefault("IRoomGrain.HoldSeatForType"));
    }

    [Fact]
    public async Task JoinOrCreateRacesUseTheExistingPlacesAndNoRoomGoesOverCapacity()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync(configure: KeepHeldSeats);
        for (int i = 0; i < 5; i++)
        {
            await FillTableAsync(cluster);
        }

        // table-3 has two places.
        Task reported = GrainCalls.Listed("table-3", listing => listing.Info.Count == 2);
        await cluster.Cluster.Client.GetGrain<IRoomGrain>("table-3").ReleaseSeat("table", null).Within();
        await cluster.Cluster.Client.GetGrain<IRoomGrain>("table-3").ReleaseSeat("table", null).Within();
        await reported.Within(what: "table-3's report of 2 users to the directory");
        Assert.Equal(2, (await cluster.Silos[0].ServiceProvider.GetWevisRooms().FindAsync("table-3").Within())?.Count);

        Client[] clients = await Task.WhenAll(Enumerable.Range(0, 38).Select(i => cluster.ConnectAsync($"racer{i}", cluster.Silos[i % 3])));
        try
        {
            ClientRoom[] rooms = await Task.WhenAll(clients.Select(c => c.JoinOrCreateRoomAsync("table"))).Within(TimeSpan.FromSeconds(30));
            var counts = rooms.GroupBy(r => r.Id).ToDictionary(g => g.Key, g => g.Count());
            Assert.Equal(2, counts["table-3"]);
            Assert.Equal(10, counts.Count);
            Assert.All(counts.Values, n => Assert.True(n <= 4));

            // The listing agrees, from every node: nothing over capacity, 9 new rooms full.
            IReadOnlyList<RoomInfo> listed = await cluster.Silos[2].ServiceProvider.GetWevisRooms().ListAsync("table").Within();
            Assert.All(listed, info => Assert.True(info.Count <= 4, $"{info.Id} has {info.Count}"));
            Assert.Equal(14, listed.Count);
            Assert.Equal(9, listed.Count(info => info.Count == 4 && counts.ContainsKey(info.Id) && info.Id != "table-3"));
        }
        finally
        {
            await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask()));
        }
    }

    [Fact]
    public async Task ARoomIsClosedFromAnotherNodeAndItsUsersGoToTheLobby()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync();
        await using Client anna = await cluster.ConnectAsync("anna", cluster.Silos[0]);
        await cluster.Silos[0].ServiceProvider.GetWevisRooms().CreateAsync("chat", "chat-closing").Within();
        await anna.JoinRoomAsync("chat-closing").Within();
        var toldLobby = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        anna.RoomChanged += (_, e) =>
        {
            if (e.Room.Id == "lobby")
            {
                toldLobby.TrySetResult(e.Reason);
            }
        };

        RoomDirectory elsewhere = cluster.Silos[2].ServiceProvider.GetWevisRooms();
        Task disposed = GrainCalls.Listed("chat-closing", listing => listing.IsDisposed);
        await elsewhere.CloseAsync("chat-closing", "time is up").Within();
        Assert.Contains("time is up", await toldLobby.Task.Within());
        await disposed.Within(what: "chat-closing's report of its disposal to the directory");
        Assert.Null(await elsewhere.FindAsync("chat-closing").Within());

        await Assert.ThrowsAsync<ArgumentException>(() => elsewhere.CloseAsync("chat-closing", "again")).Within();
        await Assert.ThrowsAsync<InvalidOperationException>(() => elsewhere.CloseAsync("lobby", "no")).Within();
        await Assert.ThrowsAsync<ArgumentException>(() => elsewhere.CreateAsync("chat", "general")).Within();
    }

    [Fact]
    public async Task ServerCodeOutsideRoomsAndRoomCodeMoveUsersToRoomsOnOtherNodes()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync();
        await using Client anna = await cluster.ConnectAsync("anna", cluster.Silos[1]);
        InProcessSiloHandle home = cluster.Silos[0];
        InProcessSiloHandle away = cluster.Silos[2];
        RoomDirectory homeRooms = home.ServiceProvider.GetWevisRooms();
        Room start = await homeRooms.CreateAsync("chat", "chat-start").Within();
        await away.ServiceProvider.GetWevisRooms().CreateAsync("chat", "chat-away").Within();
        await anna.JoinRoomAsync("chat-start").Within();

        // Room code moves her by id to a room on another node.
        Task<ClientRoom> moved = NextRoomAsync(anna);
        anna.Send(new Say("go:chat-away"));
        Assert.Equal("chat-away", (await moved.Within()).Id);

        // chat-start went when she left it (it had been used); she goes to a new room on the home node.
        Assert.True(start.IsClosed);
        Room back = await homeRooms.CreateAsync("chat").Within();
        moved = NextRoomAsync(anna);
        anna.Send(new Say("go:" + back.Id));
        Assert.Equal(back.Id, (await moved.Within()).Id);

        // Server code on that node (outside rooms) moves her on: join-or-create into a room that may be elsewhere.
        // The room answers her after her entry (it handles her messages in its turn, after the enter).
        anna.Send(new WhereAmI());
        Assert.Equal(back.Id, (await anna.WaitForAsync<YouAreIn>().Within()).Room);
        Assert.Equal(1, back.Count);
        moved = NextRoomAsync(anna);
        JoinResult joined = await homeRooms.JoinOrCreateAsync(back.Connections[0], "table").Within();
        Assert.True(joined.Accepted, joined.RefusalReason);
        Assert.Equal(joined.RoomId, (await moved.Within()).Id);
    }

    [Fact]
    public async Task RoomsListedOnADeadNodeAreMadeAgainElsewhereAndListedFromThere()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync();
        await using Client anna = await cluster.ConnectAsync("anna", cluster.Silos[0]);
        // The victim must not hold the chat type's grain: rooms on the node that held their type's grain as well are
        // not listed anywhere after its death, so no one makes them again (docs/scale-out.md says so).
        await cluster.Cluster.Client.GetGrain<IRoomTypeGrain>("chat").List().Within();
        InProcessSiloHandle? typeHost = await cluster.HostOfTypeGrainAsync("chat");
        Assert.NotNull(typeHost);
        InProcessSiloHandle? lobbyHost = cluster.HostOf("lobby");
        InProcessSiloHandle victim = cluster.Silos.Skip(1).Where(silo => silo != typeHost).OrderBy(silo => silo == lobbyHost).First();
        RoomDirectory victimRooms = victim.ServiceProvider.GetWevisRooms();
        Room quiet = await victimRooms.CreateAsync("chat", "chat-quiet").Within();
        await victimRooms.CreateAsync("chat", "chat-busy").Within();
        await anna.JoinRoomAsync("chat-busy").Within();
        Task locked = GrainCalls.Listed("chat-quiet", listing => listing.Info.IsLocked);
        await quiet.InvokeAsync(quiet.Lock).Within();
        RoomDirectory rooms = cluster.Silos[0].ServiceProvider.GetWevisRooms();
        await locked.Within(what: "chat-quiet's report of its lock to the directory");
        Assert.True((await rooms.FindAsync("chat-quiet").Within())?.IsLocked);

        string dead = victim.SiloAddress.ToParsableString();
        Task quietBack = GrainCalls.Listed("chat-quiet", listing => listing.Silo != dead && listing.Info is { IsLocked: false, Count: 0 });
        Task busyBack = GrainCalls.Listed("chat-busy", listing => listing.Silo != dead && listing.Info.Count == 1);
        await cluster.Cluster.KillSiloAsync(victim).Within(TimeSpan.FromSeconds(30));

        // The room no one was in is made again on a live node (a new, unlocked instance), and listed as that one.
        await quietBack.Within(TimeSpan.FromSeconds(30), "chat-quiet's report from a live node, unlocked and empty");
        Assert.True(cluster.HostOf("chat-quiet") is { } host && host != victim, "chat-quiet is not on a live node");
        Assert.Equal(new RoomInfo("chat-quiet", "chat", 0, 6, false), await rooms.FindAsync("chat-quiet").Within());

        // The room anna was in is back with her in it.
        await busyBack.Within(TimeSpan.FromSeconds(30), "chat-busy's report from a live node, with anna in it");
        Assert.True(cluster.HostOf("chat-busy") is { } busyHost && busyHost != victim, "chat-busy is not on a live node");
        Assert.Equal(1, (await rooms.FindAsync("chat-busy").Within())?.Count);
    }

    [Fact]
    public async Task RoomsThatDiedWithTheirTypesGrainAreMadeAgainFromItsSavedList()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync();
        InProcessSiloHandle victim = cluster.Silos[1];
        RoomDirectory victimRooms = victim.ServiceProvider.GetWevisRooms();

        // The room reports itself from the victim, so the chat type's grain is placed there too.
        await victimRooms.CreateAsync("chat", "chat-quiet").Within();
        Assert.Equal(victim, await cluster.HostOfTypeGrainAsync("chat"));
        RoomDirectory rooms = cluster.Silos[0].ServiceProvider.GetWevisRooms();

        // Listed once made: the room's first report is taken before CreateAsync returns.
        Assert.NotNull(await rooms.FindAsync("chat-quiet").Within());

        string dead = victim.SiloAddress.ToParsableString();
        Task back = GrainCalls.Listed("chat-quiet", listing => listing.Silo != dead && listing.Info.Count == 0);
        await cluster.Cluster.KillSiloAsync(victim).Within(TimeSpan.FromSeconds(30));

        await back.Within(TimeSpan.FromSeconds(30), "chat-quiet's report from a live node, made again from the saved list");
        Assert.True(cluster.HostOf("chat-quiet") is { } host && host != victim, "chat-quiet is not on a live node");
        Assert.Equal(0, (await rooms.FindAsync("chat-quiet").Within())?.Count);
    }

    [Fact]
    public async Task ANodesCallThatWaitedForAnotherNodesFailedRevivalOfADeadSilosRoomsRevivesThemItself()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync(silos: 2);
        string roomId = await cluster.CreateRoomAsync("chat");
        string silo = cluster.HostOf(roomId)!.SiloAddress.ToParsableString();
        IRoomTypeGrain chats = cluster.Cluster.Client.GetGrain<IRoomTypeGrain>("chat");
        int revives = GrainCalls.To("IRoomGrain").GetValueOrDefault("IRoomGrain.Revive");
        int told = GrainCalls.To("IRoomTypeGrain").GetValueOrDefault("IRoomTypeGrain.SiloDead");
        var revival = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task first = Task.CompletedTask;
        Task second = Task.CompletedTask;
        try
        {
            // Two nodes tell the type's grain that the room's silo died (as every live node does): the first call's
            // revival of the room is held, and the second call, which comes meanwhile, waits for that revival.
            GrainCalls.Holding = new CallHold("IRoomGrain.Revive", revival.Task);
            first = chats.SiloDead(silo);
            await GrainCalls.Reached("IRoomGrain.Revive", revives + 1).Within(what: "the first call's revival under way");
            second = chats.SiloDead(silo);

            // Counted as the second call starts, in the grain's turn that goes on to wait for the revival: by the time
            // the revival's failure reaches the grain, that call waits for it.
            await GrainCalls.Reached("IRoomTypeGrain.SiloDead", told + 2).Within(what: "the second call waiting");
        }
        finally
        {
            // The held revival fails; the calls to the room after it go through.
            GrainCalls.Holding = null;
            revival.TrySetException(new InvalidOperationException("the revival fails (a test's fault)"));
        }

        // The first call's own revival failed (its node logs it); the second revives the room itself.
        await Assert.ThrowsAnyAsync<Exception>(() => first.Within());
        await second.Within();
        Assert.Equal(revives + 2, GrainCalls.To("IRoomGrain").GetValueOrDefault("IRoomGrain.Revive"));
    }

    [Fact]
    public async Task ARoomTypesListingOutlivesACollectionOfIdleGrains()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync();
        RoomDirectory rooms = cluster.Silos[0].ServiceProvider.GetWevisRooms();
        await rooms.CreateAsync("chat", "chat-idle").Within();

        // Listed once made: the room's first report is taken before CreateAsync returns.
        Assert.NotNull(await rooms.FindAsync("chat-idle").Within());

        // Orleans collects activations idle for longer than their age limit (15 minutes by default); here, at once.
        await cluster.Cluster.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero).Within();

        Assert.Equal(["chat-idle"], (await rooms.ListAsync("chat").Within()).Select(info => info.Id));
    }

    /// <summary>Completes once the room <paramref name="id"/> has reported the count and lock to its type's grain (set up before the change).</summary>
    private static Task ReportedAsync(string id, int count, bool locked) =>
        GrainCalls.Listed(id, listing => listing.Info.Count == count && listing.Info.IsLocked == locked);

    /// <summary>
    /// Once the room's report of the change has reached the directory (<paramref name="reported"/>), every node and the
    /// lobby's code find and list it as it is now.
    /// </summary>
    private static async Task SeenEverywhereAsync(WevisTestCluster cluster, Client inLobby, string id, int count, bool locked, Task reported)
    {
        string expected = $"{id} {count} {locked}";
        await reported.Within(what: $"{id}'s report to the directory as {expected}");
        foreach (InProcessSiloHandle silo in cluster.Silos)
        {
            RoomDirectory rooms = silo.ServiceProvider.GetWevisRooms();
            Assert.Equal(expected, await rooms.FindAsync(id).Within() is { } info ? $"{info.Id} {info.Count} {info.IsLocked}" : null);
            Assert.Contains(await rooms.ListAsync("chat").Within(), info => info.Id == id && info.Count == count);
        }

        // From the lobby's code, on its own node.
        inLobby.Send(new Say("find:" + id));
        Assert.Equal(expected, (await inLobby.WaitForAsync<Said>().Within()).Text);
        inLobby.Send(new Say("list:chat"));
        Assert.Contains($"{id}={count}", (await inLobby.WaitForAsync<Said>().Within()).Text.Split(','));
    }

    /// <summary>Seats held for nobody (to fill tables) stay held for the whole test, however slow the machine.</summary>
    private static void KeepHeldSeats(WevisClusterOptions wevis) => wevis.SeatReservationTimeout = TimeSpan.FromMinutes(10);

    /// <summary>Makes a table room through its type grain, with its four seats held.</summary>
    private static async Task FillTableAsync(WevisTestCluster cluster)
    {
        SeatAnswer answer = await cluster.Cluster.Client.GetGrain<IRoomTypeGrain>("table").Create(null);
        IRoomGrain room = cluster.Cluster.Client.GetGrain<IRoomGrain>(answer.RoomId!);
        for (int i = 0; i < 3; i++)
        {
            Assert.Null(await room.HoldSeat("table", force: false, create: false, null));
        }
    }

    private static Task<ClientRoom> NextRoomAsync(Client client)
    {
        var next = new TaskCompletionSource<ClientRoom>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChanged(object? sender, RoomChangedEventArgs e)
        {
            client.RoomChanged -= OnChanged;
            next.TrySetResult(e.Room);
        }

        client.RoomChanged += OnChanged;
        return next.Task;
    }
}
