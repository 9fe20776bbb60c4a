using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Messages;
using Xunit.Abstractions;

namespace Wevis.Runtime.Tests.Rooms;

/// <summary>
/// Users moving between rooms while they send: every message is handled exactly once, in order, by the room the
/// sender was in when it sent it (the room it last asked to join, since a join request is itself a message in
/// the same ordered stream).
/// </summary>
public class MoveTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task UsersMovingAtRandomWhileSendingHaveEveryMessageHandledOnceInOrderByTheRoomTheyWereIn()
    {
        const int clients = 200;
        const int rooms = 10;
        const int messagesPerClient = 250;
        var ledger = new RoomLedger();
        await using TestServer server = await TestServer.StartInMemoryAsync(o => o.MaxPendingLogins = clients);
        server.Server.Rooms.Define("chat", () => new ChatRoom(ledger), new RoomTypeOptions { AutoDispose = false });
        string[] ids = new string[rooms];
        for (int r = 0; r < rooms; r++)
        {
            ids[r] = (await server.Server.Rooms.CreateAsync("chat", $"room{r}")).Id;
        }

        int moves = 0;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(i => Task.Run(async () =>
        {
            var random = new Random(i);
            await using Client client = await server.ConnectAsync($"user{i}", "pw");
            string room = ids[random.Next(rooms)];
            await client.JoinRoomAsync(room);

            // Replies are read while this sends; each must come from the room the message was stamped with.
            Task<int> replies = ReadRepliesAsync(client, messagesPerClient);
            var joins = new List<Task<ClientRoom>>();
            for (int sequence = 0; sequence < messagesPerClient; sequence++)
            {
                if (random.Next(20) == 0)
                {
                    string next = ids[random.Next(rooms)];
                    if (next != room)
                    {
                        // Not awaited: the messages after it are stamped with the new room at once.
                        joins.Add(client.JoinRoomAsync(next));
                        room = next;
                        Interlocked.Increment(ref moves);
                    }
                }

                client.Send(new InRoom(sequence, room));
            }

            await Task.WhenAll(joins).WaitAsync(Bound);
            Assert.Equal(messagesPerClient, await replies.WaitAsync(Bound));
        })));

        output.WriteLine($"{clients} clients, {rooms} rooms: {clients * messagesPerClient} messages, {moves} moves");
        Assert.Equal(0, ledger.WrongRoom);
        for (int i = 0; i < clients; i++)
        {
            Assert.Equal(Enumerable.Range(0, messagesPerClient), ledger.HandledBy($"user{i}"));
        }

        Assert.True(moves > clients, "too few moves to mean anything");
        // Every enter into a chat room is matched by one leave once the clients are gone.
        await ledger.WaitUntilAllLeftAsync(Bound);
        Assert.Equal(clients + moves, ledger.Entered);
    }

    [Fact]
    public async Task UsersMovedByRoomCodeOnOtherUsersMessagesHaveEveryMessageHandledOnceInOrder()
    {
        // Room code moves a user while that user's own receive loop may be between reading their pending move and
        // reading their room: a message read there must wait for the move, not be dropped nor handled twice.
        const int clients = 60;
        const int rooms = 4;
        const int messagesPerClient = 400;
        var ledger = new RoomLedger();
        await using TestServer server = await TestServer.StartAsync(o => o.MaxPendingLogins = clients);
        string[] ids = [.. Enumerable.Range(0, rooms).Select(r => $"shuffle{r}")];
        var shuffled = new ShuffleCount();
        server.Server.Rooms.Define("shuffle", () => new ShufflingRoom(ledger, ids, shuffled), new RoomTypeOptions { AutoDispose = false });
        foreach (string id in ids)
        {
            await server.Server.Rooms.CreateAsync("shuffle", id);
        }

        await Task.WhenAll(Enumerable.Range(0, clients).Select(i => Task.Run(async () =>
        {
            await using Client client = await server.ConnectAsync($"user{i}", "pw");
            await client.JoinRoomAsync(ids[i % rooms]).WaitAsync(Bound);
            Task<int> replies = ReadRepliesAsync(client, messagesPerClient);
            for (int sequence = 0; sequence < messagesPerClient; sequence++)
            {
                client.Send(new InRoom(sequence, string.Empty));
            }

            Assert.Equal(messagesPerClient, await replies.WaitAsync(Bound));
        })));

        output.WriteLine($"{clients} clients, {rooms} rooms: {clients * messagesPerClient} messages, {shuffled.Moves} moves by room code");
        Assert.Equal(0, ledger.WrongRoom);
        for (int i = 0; i < clients; i++)
        {
            Assert.Equal(Enumerable.Range(0, messagesPerClient), ledger.HandledBy($"user{i}"));
        }

        Assert.True(shuffled.Moves > clients, "too few moves to mean anything");
    }

    [Fact]
    public async Task AMoveRunsTheOldRoomsLeaveHookThenTheNewRoomsEnterHookAndTellsTheClient()
    {
        var events = new List<string>();
        await using TestServer server = await TestServer.StartInMemoryAsync();
        server.Server.Rooms.Define("logged", () => new LoggingRoom(events));
        Room a = await server.Server.Rooms.CreateAsync("logged", "a");
        Room b = await server.Server.Rooms.CreateAsync("logged", "b");
        await using Client client = await server.ConnectAsync();

        Assert.Equal(new ClientRoom("a", "logged"), await client.JoinRoomAsync("a").WaitAsync(Bound));
        Assert.Equal(new ClientRoom("b", "logged"), await client.JoinRoomAsync("b").WaitAsync(Bound));

        lock (events)
        {
            Assert.Equal(["enter a", "leave a", "enter b"], events);
        }

        Assert.Equal(new ClientRoom("b", "logged"), client.Room);
        Assert.Empty(a.Connections);
        Assert.Equal("michael", Assert.Single(b.Connections).User.Name);
        Assert.Same(b, Assert.Single(b.Connections).Room);
    }

    [Fact]
    public async Task JoiningAnUnknownFullOrLockedRoomIsRefusedWithAReasonAndTheUserStaysWhereTheyWere()
    {
        await using TestServer server = await TestServer.StartInMemoryAsync();
        server.Server.Rooms.Define("pair", () => new ChatRoom(), new RoomTypeOptions { Capacity = 1 });
        Room full = await server.Server.Rooms.CreateAsync("pair", "full");
        Room locked = await server.Server.Rooms.CreateAsync("pair", "locked");
        locked.Lock();
        await using Client first = await server.ConnectAsync("user1", "pw");
        await using Client second = await server.ConnectAsync("user2", "pw");
        await first.JoinRoomAsync("full").WaitAsync(Bound);

        Assert.Contains("no room 'nowhere'", (await Assert.ThrowsAsync<JoinRefusedException>(() => second.JoinRoomAsync("nowhere"))).Reason);
        Assert.Contains("full", (await Assert.ThrowsAsync<JoinRefusedException>(() => second.JoinRoomAsync("full"))).Reason);
        Assert.Contains("locked", (await Assert.ThrowsAsync<JoinRefusedException>(() => second.JoinRoomAsync("locked"))).Reason);
        Assert.Equal(new ClientRoom("lobby", "lobby"), second.Room);

        // And the refused user still talks to the room they are in.
        second.Send(new Example.WhoAmI());
        Assert.Equal("user2", (await second.ReceiveAsync<Example.YouAre>().AsTask().WaitAsync(Bound)).Name);
        Assert.Single(full.Connections);
    }

    [Fact]
    public async Task ARoomThatRefusesAUserInItsEnterHookLeavesThemWhereTheyWere()
    {
        var events = new List<string>();
        await using TestServer server = await TestServer.StartInMemoryAsync();
        server.Server.Rooms.Define("logged", () => new LoggingRoom(events));
        server.Server.Rooms.Define("picky", () => new PickyRoom(new RoomEntryRefusedException("members only")));
        server.Server.Rooms.Define("broken", () => new PickyRoom(new InvalidOperationException("a bug in the hook")));
        await server.Server.Rooms.CreateAsync("logged", "home");
        await server.Server.Rooms.CreateAsync("picky", "club");
        await server.Server.Rooms.CreateAsync("broken", "shed");
        await using Client client = await server.ConnectAsync();
        await client.JoinRoomAsync("home").WaitAsync(Bound);

        Assert.Equal("members only", (await Assert.ThrowsAsync<JoinRefusedException>(() => client.JoinRoomAsync("club"))).Reason);
        string general = (await Assert.ThrowsAsync<JoinRefusedException>(() => client.JoinRoomAsync("shed"))).Reason;

        Assert.DoesNotContain("a bug", general);
        Assert.Equal(new ClientRoom("home", "logged"), client.Room);
        Assert.Single(server.Server.Rooms.Find("home")!.Connections);
        Assert.Empty(server.Server.Rooms.Find("club")!.Connections);
        await server.Log.WaitForAsync(e => e.Level == Microsoft.Extensions.Logging.LogLevel.Error && e.Exception?.Message == "a bug in the hook");
        lock (events)
        {
            // The old room hears the user leave, and come back.
            Assert.Equal(["enter home", "leave home", "enter home", "leave home", "enter home"], events);
        }
    }

    [Fact]
    public async Task TheClientHearsOfItsNewRoomBeforeAnythingTheRoomSendsItAndNothingFromARoomThatRefusesIt()
    {
        await using TestServer server = await TestServer.StartInMemoryAsync();
        server.Server.Rooms.Define("greeting", () => new GreetingRoom(refuse: false));
        server.Server.Rooms.Define("teasing", () => new GreetingRoom(refuse: true));
        await server.Server.Rooms.CreateAsync("greeting", "hello");
        await server.Server.Rooms.CreateAsync("teasing", "tease");
        await using Client client = await server.ConnectAsync();

        // Not awaited: the greeting may be received before the join's answer is looked at.
        Task<ClientRoom> joining = client.JoinRoomAsync("hello");
        Said greeting = await client.ReceiveAsync<Said>().AsTask().WaitAsync(Bound);
        Assert.Equal(new Said("hello", "welcome"), greeting);
        Assert.Equal("hello", client.Room?.Id);
        await joining.WaitAsync(Bound);

        await Assert.ThrowsAsync<JoinRefusedException>(() => client.JoinRoomAsync("tease"));
        Assert.Equal(new Said("hello", "welcome"), await client.ReceiveAsync<Said>().AsTask().WaitAsync(Bound));
        Assert.False(client.TryReceive(out IMessage? extra), $"the refusing room's greeting was sent: {extra}");
    }

    [Fact]
    public async Task AnEnterHookThatMovesTheUserOnLeavesThemInNoRoomButTheNextAndTheServerStops()
    {
        var entering = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var letIn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using TestServer server = await TestServer.StartInMemoryAsync();
        server.Server.Rooms.Define("hop", () => new HopRoom("dest", refuseAfter: false));
        server.Server.Rooms.Define("slow", () => new SlowDoorRoom(entering, letIn.Task));
        Room hop = await server.Server.Rooms.CreateAsync("hop", "hop");
        Room dest = await server.Server.Rooms.CreateAsync("slow", "dest");
        await using Client client = await server.ConnectAsync();
        Connection connection = await server.SettledConnectionAsync();

        // The hook sends them on at once; the next room's door is slow, so they are between the two when this returns.
        Assert.True((await server.Server.Rooms.MoveAsync(connection, hop).WaitAsync(Bound)).Accepted);
        await entering.Task.WaitAsync(Bound);
        Assert.Empty(hop.Connections);
        Assert.NotSame(hop, connection.Room);

        letIn.SetResult();
        await WaitForRoomAsync(client, "dest");
        Assert.Same(dest, connection.Room);
        Assert.Same(connection, Assert.Single(dest.Connections));

        // Their connection ends; the server stops (it waits for every user to have left their room).
        await client.DisposeAsync();
        await server.Server.StopAsync().WaitAsync(Bound);
        Assert.Empty(dest.Connections);
    }

    [Fact]
    public async Task AnEnterHookThatMovesTheUserOnAndThenRefusesThemLeavesThemOnlyInTheRoomTheyWereMovedTo()
    {
        var events = new List<string>();
        await using TestServer server = await TestServer.StartInMemoryAsync();
        server.Server.Rooms.Define("logged", () => new LoggingRoom(events));
        server.Server.Rooms.Define("hop", () => new HopRoom("dest", refuseAfter: true), new RoomTypeOptions { Capacity = 1, AutoDispose = false });
        Room home = await server.Server.Rooms.CreateAsync("logged", "home");
        Room dest = await server.Server.Rooms.CreateAsync("logged", "dest");
        await server.Server.Rooms.CreateAsync("hop", "hop");
        await using Client client = await server.ConnectAsync();
        await client.JoinRoomAsync("home").WaitAsync(Bound);

        // The move stands: the refusal after it cannot send the user back home as well.
        Task<string> inDest = WaitForRoomAsync(client, "dest");
        await client.JoinRoomAsync("hop").WaitAsync(Bound);
        await inDest;
        Assert.Empty(home.Connections);
        Assert.Equal("michael", Assert.Single(dest.Connections).User.Name);
        // Its seat goes back once the user is in the next room, just after the client hears of it.
        await Networking.ExampleExchangeTests.WaitUntilAsync(() => server.Server.Rooms.List("hop").Single().Count == 0);
        await server.Log.WaitForAsync(e => e.EventId.Id == 43);
        lock (events)
        {
            Assert.Equal(["enter home", "leave home", "enter dest"], events);
        }

        // And hop's one seat was given back once: another user fits in it (and is sent on too).
        await using Client other = await server.ConnectAsync("user2", "pw");
        Task<string> otherInDest = WaitForRoomAsync(other, "dest");
        await other.JoinRoomAsync("hop").WaitAsync(Bound);
        await otherInDest;
        // Its seat goes back once the user is in the next room, just after the client hears of it.
        await Networking.ExampleExchangeTests.WaitUntilAsync(() => server.Server.Rooms.List("hop").Single().Count == 0);
    }

    [Fact]
    public async Task WhatOthersSendAUserWhileARoomsEnterHookRunsReachesThemThoughTheRoomRefusesThem()
    {
        var atDoor = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var decided = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using TestServer server = await TestServer.StartInMemoryAsync();
        server.Server.Rooms.Define("doorman", () => new DoormanRoom(atDoor, decided.Task));
        await server.Server.Rooms.CreateAsync("doorman", "door");
        await using Client client = await server.ConnectAsync();
        Connection connection = await server.SettledConnectionAsync();

        Task<ClientRoom> joining = client.JoinRoomAsync("door");
        await atDoor.Task.WaitAsync(Bound);
        connection.Send(new Said("server", "news"));
        decided.SetResult();

        Assert.Equal("not tonight", (await Assert.ThrowsAsync<JoinRefusedException>(() => joining.WaitAsync(Bound))).Reason);
        Assert.Equal(new Said("server", "news"), await client.ReceiveAsync<Said>().AsTask().WaitAsync(Bound));

        // What the refusing room said while deciding is still dropped: the client hears the lobby greet it again, then
        // this reply.
        await client.ReceiveAsync<Example.ServerReady>().AsTask().WaitAsync(Bound);
        client.Send(new Example.WhoAmI());
        Assert.Equal("michael", (await client.ReceiveAsync<Example.YouAre>().AsTask().WaitAsync(Bound)).Name);
        Assert.False(client.TryReceive(out IMessage? extra), $"the refusing room's greeting was sent: {extra}");
    }

    [Fact]
    public async Task WhatARoomsEarlierEnterHookStartedAndSendsLaterIsNotHeldAsTheNextRoomsWhileThatOneDecides()
    {
        var atDoor = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var decided = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sendLate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sentLate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using TestServer server = await TestServer.StartInMemoryAsync();
        server.Server.Rooms.Define("starter", () => new LateSenderRoom(sendLate.Task, sentLate));
        server.Server.Rooms.Define("doorman", () => new DoormanRoom(atDoor, decided.Task));
        await server.Server.Rooms.CreateAsync("starter", "start");
        await server.Server.Rooms.CreateAsync("doorman", "door");
        await using Client client = await server.ConnectAsync();
        await client.JoinRoomAsync("start").WaitAsync(Bound);

        // The starter's enter hook left work behind that sends later: it sends while the door decides, then refuses.
        Task<ClientRoom> joining = client.JoinRoomAsync("door");
        await atDoor.Task.WaitAsync(Bound);
        sendLate.SetResult();
        await sentLate.Task.WaitAsync(Bound);
        decided.SetResult();

        await Assert.ThrowsAsync<JoinRefusedException>(() => joining.WaitAsync(Bound));
        Assert.Equal(new Said("start", "late"), await client.ReceiveAsync<Said>().AsTask().WaitAsync(Bound));
    }

    private static Task<string> WaitForRoomAsync(Client client, string roomId)
    {
        var entered = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.RoomChanged += (_, e) =>
        {
            if (e.Room.Id == roomId)
            {
                entered.TrySetResult(e.Room.Id);
            }
        };

        if (client.Room?.Id == roomId)
        {
            entered.TrySetResult(roomId);
        }

        return entered.Task.WaitAsync(Bound);
    }

    private static async Task<int> ReadRepliesAsync(Client client, int expected)
    {
        int received = 0;
        while (received < expected)
        {
            InRoomReply reply = await client.ReceiveAsync<InRoomReply>();
            Assert.Equal(received, reply.Sequence);
            received++;
        }

        return received;
    }

    private sealed class LoggingRoom(List<string> events) : Room
    {
        protected override void OnUserEnter(Connection connection) => Add("enter");

        protected override void OnUserLeave(Connection connection) => Add("leave");

        private void Add(string what)
        {
            lock (events)
            {
                events.Add($"{what} {Id}");
            }
        }
    }

    /// <summary>How many moves the shuffling rooms' code made.</summary>
    private sealed class ShuffleCount
    {
        private int _moves;

        public int Moves => Volatile.Read(ref _moves);

        public void Moved() => Interlocked.Increment(ref _moves);
    }

    /// <summary>
    /// Records and answers each <c>InRoom</c>; every fifth message it handles, moves another of its users (not the
    /// sender) to the next room, from room code, while that user may be sending.
    /// </summary>
    private sealed class ShufflingRoom(RoomLedger ledger, string[] ids, ShuffleCount shuffled) : Room
    {
        private int _handled;

        protected override async ValueTask HandleAsync(Connection connection, IMessage message)
        {
            if (message is not InRoom(int sequence, _))
            {
                Handle(connection, message);
                return;
            }

            // A message is handled only by the room its sender is in (a user moved out is no longer in Connections).
            ledger.Handled(connection.User.Name, sequence, rightRoom: Connections.Contains(connection));
            connection.Send(new InRoomReply(sequence, Id));
            if (++_handled % 5 != 0)
            {
                return;
            }

            IReadOnlyList<Connection> users = Connections;
            Connection? other = users.Count > 1 ? users[_handled / 5 % users.Count] : null;
            if (other is not null && !ReferenceEquals(other, connection))
            {
                string next = ids[(Array.IndexOf(ids, Id) + 1) % ids.Length];
                if ((await MoveAsync(other, next, "shuffled")).Accepted)
                {
                    shuffled.Moved();
                }
            }
        }
    }

    /// <summary>Greets each user who enters, naming itself; with <c>refuse</c>, then turns them away.</summary>
    private sealed class GreetingRoom(bool refuse) : Room
    {
        protected override void OnUserEnter(Connection connection)
        {
            connection.Send(new Said(Id, "welcome"));
            if (refuse)
            {
                throw new RoomEntryRefusedException("only teasing");
            }
        }
    }

    /// <summary>Sends each user who enters on to <c>target</c> from its enter hook; with <c>refuseAfter</c>, then refuses them.</summary>
    private sealed class HopRoom(string target, bool refuseAfter) : Room
    {
        protected override async ValueTask OnUserEnterAsync(Connection connection)
        {
            Assert.True((await MoveAsync(connection, target)).Accepted);
            if (refuseAfter)
            {
                throw new RoomEntryRefusedException("you were sent on");
            }
        }
    }

    /// <summary>Lets users in once <c>open</c> completes, saying when one is at the door.</summary>
    private sealed class SlowDoorRoom(TaskCompletionSource entering, Task open) : Room
    {
        protected override async ValueTask OnUserEnterAsync(Connection connection)
        {
            entering.TrySetResult();
            await open;
        }
    }

    /// <summary>Greets each user at the door, says so, waits for <c>decided</c>, then turns them away.</summary>
    private sealed class DoormanRoom(TaskCompletionSource atDoor, Task decided) : Room
    {
        protected override async ValueTask OnUserEnterAsync(Connection connection)
        {
            connection.Send(new Said(Id, "hold on"));
            atDoor.TrySetResult();
            await decided;
            throw new RoomEntryRefusedException("not tonight");
        }
    }

    /// <summary>
    /// Its enter hook starts work that sends the user something once <c>sendLate</c> completes, long after the hook;
    /// only the first time (a user sent back here by a refusing room enters again).
    /// </summary>
    private sealed class LateSenderRoom(Task sendLate, TaskCompletionSource sentLate) : Room
    {
        private bool _started;

        protected override void OnUserEnter(Connection connection)
        {
            if (_started)
            {
                return;
            }

            _started = true;
            _ = Task.Run(async () =>
            {
                await sendLate;
                connection.Send(new Said(Id, "late"));
                sentLate.TrySetResult();
            });
        }
    }

    private sealed class PickyRoom(Exception refusal) : Room
    {
        protected override void OnUserEnter(Connection connection) => throw refusal;
    }
}
