using Example;
using Microsoft.Extensions.Logging;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Messages;

namespace Wevis.Runtime.Tests.Rooms;

/// <summary>Rooms made at run time: join-or-create under a race, disposal when empty, closing with users inside, failures kept inside one room.</summary>
public class RoomLifecycleTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AHundredClientsRacingToJoinOrCreateRoomsOfFourMakeExactlyTwentyFiveFullRooms()
    {
        const int clients = 100;
        await using TestServer server = await TestServer.StartInMemoryAsync(o => o.MaxPendingLogins = clients);
        server.Server.Rooms.Define("match", () => new ChatRoom(), new RoomTypeOptions { Capacity = 4 });
        Client[] connected = await Task.WhenAll(Enumerable.Range(0, clients).Select(i => server.ConnectAsync($"user{i}", "pw")));
        try
        {
            // All at once: the joins reach the directory from many receive loops together.
            ClientRoom[] joined = await Task.WhenAll(connected.Select(c => c.JoinOrCreateRoomAsync("match"))).WaitAsync(Bound);

            IReadOnlyList<RoomInfo> rooms = server.Server.Rooms.List("match");
            Assert.Equal(25, rooms.Count);
            Assert.All(rooms, room => Assert.Equal(4, room.Count));
            Assert.All(joined, room => Assert.Equal("match", room.Type));
            Assert.Equal(rooms.Select(r => r.Id).Order(), joined.Select(r => r.Id).Distinct().Order());
            Assert.All(rooms, info => Assert.Equal(4, server.Server.Rooms.Find(info.Id)!.Connections.Count));
        }
        finally
        {
            await Task.WhenAll(connected.Select(c => c.DisposeAsync().AsTask()));
        }
    }

    [Fact]
    public async Task ARoomMadeBeforeTheServerStartsLogsToTheServersLoggerOnceItHasStarted()
    {
        var log = new TestLog();
        await using var server = new Server(TestServer.Validate, new TimeRoom(), new ServerOptions { Host = "127.0.0.1", Port = 0, LoggerFactory = log });
        server.Rooms.Define<TalkingRoom>("talk");
        var early = (TalkingRoom)await server.Rooms.CreateAsync("talk", "early").WaitAsync(Bound);
        await server.StartAsync().WaitAsync(Bound);

        await early.SayAsync("made before the start").WaitAsync(Bound);
        LogEntry said = Assert.Single(log.Entries, e => e.Message == "made before the start");
        Assert.Equal(typeof(TalkingRoom).FullName, said.Category);
    }

    /// <summary>Logs what it is told to, in its turn.</summary>
    private sealed class TalkingRoom : Room
    {
        public Task SayAsync(string text) => InvokeAsync(() => Logger.LogInformation("{Text}", text));
    }

    [Fact]
    public async Task ARoomIsDisposedWhenItsLastUserLeavesUnlessItsTypeSaysOtherwise()
    {
        var made = new List<ChatRoom>();
        await using TestServer server = await TestServer.StartInMemoryAsync();
        server.Server.Rooms.Define("chat", () => Add(made, new ChatRoom()));
        server.Server.Rooms.Define("hall", () => Add(made, new ChatRoom()), new RoomTypeOptions { AutoDispose = false });
        await using Client first = await server.ConnectAsync("user1", "pw");
        await using Client second = await server.ConnectAsync("user2", "pw");

        ClientRoom chat = await first.CreateRoomAsync("chat").WaitAsync(Bound);
        await second.JoinRoomAsync(chat.Id).WaitAsync(Bound);
        ClientRoom hall = await first.CreateRoomAsync("hall").WaitAsync(Bound);
        await second.LeaveRoomAsync().WaitAsync(Bound);

        // The chat room's last user left when the first moved to the hall, and the second went back to the lobby.
        ChatRoom chatRoom = made[0];
        await chatRoom.Disposed.Task.WaitAsync(Bound);
        Assert.Null(server.Server.Rooms.Find(chat.Id));
        Assert.Equal(1, chatRoom.CreatedCount);

        await first.LeaveRoomAsync().WaitAsync(Bound);
        Assert.NotNull(server.Server.Rooms.Find(hall.Id));
        Assert.False(made[1].Disposed.Task.IsCompleted);
        Assert.Equal(["hall-2", "lobby"], server.Server.Rooms.List().Select(r => r.Id));
    }

    [Fact]
    public async Task ClosingARoomSendsItsUsersToTheLobbyWithTheReasonAndDisposesIt()
    {
        await using TestServer server = await TestServer.StartInMemoryAsync();
        server.Server.Rooms.Define("chat", () => new ChatRoom());
        Room room = await server.Server.Rooms.CreateAsync("chat", "doomed");
        Client[] users = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => server.ConnectAsync($"user{i}", "pw")));
        try
        {
            var moved = users.Select(user => NextRoomChange(user)).ToArray();
            foreach (Client user in users)
            {
                await user.JoinRoomAsync("doomed").WaitAsync(Bound);
            }

            moved = users.Select(user => NextRoomChange(user)).ToArray();
            users[0].Send(new CloseThisRoom("the game is over", false));

            foreach ((Client user, Task<RoomChangedEventArgs> change) in users.Zip(moved))
            {
                RoomChangedEventArgs args = await change.WaitAsync(Bound);
                Assert.Equal(new ClientRoom("lobby", "lobby"), args.Room);
                Assert.Equal("the room doomed was closed: the game is over", args.Reason);

                // Back in the lobby, whose enter hook greets them again.
                await user.ReceiveAsync<ServerReady>().AsTask().WaitAsync(Bound);
            }

            await ((ChatRoom)room).Disposed.Task.WaitAsync(Bound);
            Assert.True(room.IsClosed);
            Assert.Null(server.Server.Rooms.Find("doomed"));
            Assert.Equal(3, server.Server.Room.Count);
        }
        finally
        {
            await Task.WhenAll(users.Select(c => c.DisposeAsync().AsTask()));
        }
    }

    [Fact]
    public async Task ClosingARoomSendsEveryUserAwayThoughALeaveHookMovesOneOfThemFirst()
    {
        await using TestServer server = await TestServer.StartInMemoryAsync();
        server.Server.Rooms.Define("escort", () => new EscortRoom());
        server.Server.Rooms.Define("chat", () => new ChatRoom(), new RoomTypeOptions { AutoDispose = false });
        await server.Server.Rooms.CreateAsync("chat", "side");
        var room = (EscortRoom)await server.Server.Rooms.CreateAsync("escort", "doomed");
        Client[] users = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => server.ConnectAsync($"user{i}", "pw")));
        try
        {
            // In this order, so the room sends user0 away first; its leave hook takes user1 along to the side room.
            foreach (Client user in users)
            {
                await user.JoinRoomAsync("doomed").WaitAsync(Bound);
            }

            var moved = users.Select(user => NextRoomChange(user)).ToArray();
            await server.Server.Rooms.CloseAsync(room, "the game is over").WaitAsync(Bound);

            string closed = "the room doomed was closed: the game is over";
            Assert.Equal((new ClientRoom("lobby", "lobby"), closed), Seen(await moved[0].WaitAsync(Bound)));
            Assert.Equal((new ClientRoom("side", "chat"), "escorted by user0"), Seen(await moved[1].WaitAsync(Bound)));
            Assert.Equal((new ClientRoom("lobby", "lobby"), closed), Seen(await moved[2].WaitAsync(Bound)));
            await room.Disposed.Task.WaitAsync(Bound);
            Assert.Null(server.Server.Rooms.Find("doomed"));
        }
        finally
        {
            await Task.WhenAll(users.Select(c => c.DisposeAsync().AsTask()));
        }

        static (ClientRoom Room, string Reason) Seen(RoomChangedEventArgs args) => (args.Room, args.Reason);
    }

    [Fact]
    public async Task ARoomClosedWithDisconnectClosesItsUsersConnectionsWithTheReason()
    {
        await using TestServer server = await TestServer.StartInMemoryAsync();
        server.Server.Rooms.Define("chat", () => new ChatRoom());
        Room room = await server.Server.Rooms.CreateAsync("chat", "doomed");
        await using Client user = await server.ConnectAsync();
        await user.JoinRoomAsync("doomed").WaitAsync(Bound);

        await server.Server.Rooms.CloseAsync(room, "the server is being emptied", disconnect: true).WaitAsync(Bound);

        var closed = await Assert.ThrowsAsync<ConnectionClosedException>(async () => await user.ReceiveAsync().AsTask().WaitAsync(Bound));
        Assert.Contains("the room doomed was closed: the server is being emptied", closed.Reason);
        await ((ChatRoom)room).Disposed.Task.WaitAsync(Bound);
    }

    [Fact]
    public async Task TheEntryRoomCannotBeClosed()
    {
        await using TestServer server = await TestServer.StartInMemoryAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(() => server.Server.Rooms.CloseAsync(server.Server.Room, "no"));
    }

    [Fact]
    public async Task RoomCodeThatMovesUsersOrClosesFromOutsideItsTurnIsRefused()
    {
        await using TestServer server = await TestServer.StartInMemoryAsync();
        server.Server.Rooms.Define("outside", () => new OutsideCaller());
        var room = (OutsideCaller)await server.Server.Rooms.CreateAsync("outside");
        await using Client user = await server.ConnectAsync();

        Assert.Contains("room's own code", Assert.Throws<InvalidOperationException>(() => room.CloseFromOutside()).Message);
    }

    [Fact]
    public async Task AFailingRoomLeavesOtherRoomsAndTheServerRunning()
    {
        await using TestServer server = await TestServer.StartInMemoryAsync();
        server.Server.Rooms.Define("faulty", () => new FaultyRoom());
        server.Server.Rooms.Define("chat", () => new ChatRoom());
        await server.Server.Rooms.CreateAsync("faulty", "faulty");
        await server.Server.Rooms.CreateAsync("chat", "chat");
        await using Client victim = await server.ConnectAsync("user1", "pw");
        await using Client bystander = await server.ConnectAsync("user2", "pw");
        await victim.JoinRoomAsync("faulty").WaitAsync(Bound);
        await bystander.JoinRoomAsync("chat").WaitAsync(Bound);

        victim.Send(new Say("boom"));
        await server.Log.WaitForAsync(e => e.Level == LogLevel.Error && e.Exception?.Message == "boom", Bound);

        // The failing room still handles its next message, the other room never noticed, and new users log in.
        victim.Send(new Say("fine"));
        Assert.Equal(new Said("user1", "fine"), await victim.ReceiveAsync<Said>().AsTask().WaitAsync(Bound));
        bystander.Send(new Say("hello"));
        Assert.Equal(new Said("user2", "hello"), await bystander.ReceiveAsync<Said>().AsTask().WaitAsync(Bound));
        await using Client late = await server.ConnectAsync("user3", "pw");
        Assert.True(late.IsConnected);
    }

    private static Task<RoomChangedEventArgs> NextRoomChange(Client client)
    {
        var changed = new TaskCompletionSource<RoomChangedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        EventHandler<RoomChangedEventArgs>? handler = null;
        handler = (_, args) =>
        {
            client.RoomChanged -= handler;
            changed.TrySetResult(args);
        };
        client.RoomChanged += handler;
        return changed.Task;
    }

    private static T Add<T>(List<T> list, T item)
    {
        lock (list)
        {
            list.Add(item);
        }

        return item;
    }

    private sealed class FaultyRoom : ChatRoom
    {
        protected override ValueTask HandleAsync(Connection connection, IMessage message) =>
            message is Say("boom") ? throw new InvalidOperationException("boom") : base.HandleAsync(connection, message);
    }

    /// <summary>When user0 leaves, it takes user1 (if still here) along to the room "side".</summary>
    private sealed class EscortRoom : Room
    {
        public TaskCompletionSource Disposed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async ValueTask OnUserLeaveAsync(Connection connection)
        {
            if (connection.User.Name == "user0" && Connections.FirstOrDefault(c => c.User.Name == "user1") is { } friend)
            {
                await MoveAsync(friend, "side", "escorted by user0");
            }
        }

        protected override void OnDisposed() => Disposed.TrySetResult();
    }

    private sealed class OutsideCaller : Room
    {
        public void CloseFromOutside() => CloseAsync("not from here").AsTask().GetAwaiter().GetResult();
    }
}
