using System.Net;
using Example;
using Microsoft.Extensions.Logging;
using Wevis.Protocol;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Messages;

namespace Wevis.Runtime.Tests.Networking;

/// <summary>
/// What a room sees and does through the public API: broadcasting with an exception, its list of connections, a
/// connection's address, whether it is open, closing it with a reason; hooks that throw; and sends to a
/// connection already dropped for a full queue.
/// </summary>
public class RoomTests
{
    [Fact]
    public async Task BroadcastWithAnExceptionReachesEveryoneButThatConnection()
    {
        await using TestServer server = await TestServer.StartAsync(room: new EchoToOthersRoom());
        await using Client a = await server.ConnectAsync("user1", "pw");
        await using Client b = await server.ConnectAsync("user2", "pw");
        await using Client c = await server.ConnectAsync("user3", "pw");

        a.Send(new Move(3, 4));
        a.Send(new WhoAmI());

        Assert.Equal(new Move(3, 4), await b.ReceiveAsync().Within());
        Assert.Equal(new Move(3, 4), await c.ReceiveAsync().Within());
        // Had the move gone to a as well, it would have arrived before this answer.
        Assert.Equal(new YouAre("user1"), await a.ReceiveAsync().Within());
    }

    [Fact]
    public async Task ConnectionsListsTheUsersInTheOrderTheyEnteredAsASnapshot()
    {
        var clock = new TestClock();
        await using TestServer server = await TestServer.StartAsync(clock: clock);
        Client first = await server.ConnectAsync("user1", "pw");
        await using Client second = await server.ConnectAsync("user2", "pw");
        await using Client third = await server.ConnectAsync("user3", "pw");

        IReadOnlyList<Connection> before = server.Room.Connections;
        Assert.Equal(["user1", "user2", "user3"], before.Select(c => c.User.Name));
        Assert.Equal(3, server.Room.Count);

        await first.DisposeAsync().Within();
        await server.Room.FirstLeave.Task.Within();
        Assert.Equal(["user2", "user3"], server.Room.Connections.Select(c => c.User.Name));
        Assert.Equal(2, server.Room.Count);
        Assert.Equal(3, before.Count);
    }

    [Fact]
    public async Task AConnectionKnowsItsClientsAddressAndIsOpenUntilClosed()
    {
        var clock = new TestClock();
        var room = new ClosingRoom();
        await using TestServer server = await TestServer.StartAsync(room: room, clock: clock);
        using RawPeer peer = server.CreateRawPeer();
        Assert.IsType<LoginAccepted>(await peer.LoginAsync().Within());
        Connection connection = await server.SettledConnectionAsync();

        var remote = Assert.IsType<IPEndPoint>(connection.RemoteEndPoint);
        Assert.Equal(((IPEndPoint)peer.Socket.LocalEndPoint!).Port, remote.Port);
        Assert.Equal(IPAddress.Loopback, remote.Address);
        Assert.True(connection.IsOpen);
        Assert.Null(connection.CloseReason);

        await peer.SendAsync(new Explode("close me")).Within();
        await ExampleExchangeTests.WaitUntilAsync(() => !connection.IsOpen);
        Assert.Equal("closed by the room", connection.CloseReason);
    }

    [Fact]
    public async Task ClosingAConnectionSendsWhatWasQueuedThenTheReasonAndFreesTheUserAtOnce()
    {
        var clock = new TestClock();
        var room = new ClosingRoom();
        await using TestServer server = await TestServer.StartAsync(room: room, clock: clock);
        using RawPeer peer = server.CreateRawPeer();
        Assert.IsType<LoginAccepted>(await peer.LoginAsync().Within());
        Assert.IsType<ServerReady>(await peer.ReceiveAsync().Within());

        // The room replies, then closes. The peer reads both and the end, but does not close its side, so the
        // connection lingers (on the fake clock) while the same user logs in again: the place was freed at once.
        peer.HangsUpWhenTheServerDoes = false;
        await peer.SendAsync(new WhoAmI()).Within();
        await peer.SendAsync(new Explode("close me")).Within();
        Assert.Equal([new YouAre("michael"), new Closing("closed by the room")], await peer.ReceiveUntilClosedAsync().Within());
        Assert.Equal(0, server.Room.LeftCount("michael"));

        await using Client again = await server.ConnectAsync();
        Assert.True(again.IsConnected);
        Assert.Equal(2, server.Room.EnteredCount("michael"));
        Assert.Equal(0, server.Room.LeftCount("michael"));
    }

    [Fact]
    public async Task EnterAndLeaveHooksThatThrowAreLoggedAndTheConnectionCarriesOn()
    {
        var room = new ThrowingHooksRoom();
        await using TestServer server = await TestServer.StartAsync(room: room);
        Client client = server.CreateClient();
        await client.ConnectAsync().Within();

        LogEntry enter = await server.Log.WaitForAsync(e => e.EventId.Id == 31);
        Assert.Equal(LogLevel.Error, enter.Level);
        Assert.Equal("Room lobby: the enter hook failed for michael", enter.Message);
        Assert.Equal("enter failed", enter.Exception!.Message);
        client.Send(new WhoAmI());
        Assert.Equal(new YouAre("michael"), await client.ReceiveAsync().Within());

        await client.DisposeAsync().Within();
        LogEntry leave = await server.Log.WaitForAsync(e => e.EventId.Id == 31 && e != enter);
        Assert.Equal("Room lobby: the leave hook failed for michael", leave.Message);
        Assert.Equal(0, server.Room.Count);
        await using Client again = server.CreateClient();
        await again.ConnectAsync().Within();
        // The login is answered before the user enters the room; an answer from the room comes after its enter hook.
        again.Send(new WhoAmI());
        Assert.Equal(new YouAre("michael"), await again.ReceiveAsync().Within());
        Assert.Equal(2, room.Entered);
    }

    [Fact]
    public async Task SendsAndBroadcastsToAConnectionDroppedForAFullQueueDoNothing()
    {
        const long cap = 1024 * 1024;
        var room = new FloodingRoom();
        await using TestServer server = await TestServer.StartAsync(
            o =>
            {
                o.MaxFrameSize = 128 * 1024;
                o.MaxQueuedBytesPerConnection = cap;
            },
            room);
        await using Client healthy = await server.ConnectAsync("user1", "pw");
        using RawPeer peer = server.CreateRawPeer();
        Assert.IsType<LoginAccepted>(await peer.LoginAsync().Within());

        // One handler sends until the peer, which never reads, is dropped, then sends and broadcasts on.
        await peer.SendAsync(new PleaseMayIHaveSomeFloats(0, 8_000)).Within();
        await room.Flooded.Task.Within();

        Assert.True(room.DroppedAfter is > 0 and < FloodingRoom.Sends, $"the connection was not dropped within {FloodingRoom.Sends} sends");
        Assert.Equal(room.QueuedWhenDropped, room.QueuedAtTheEnd);
        Assert.DoesNotContain(server.Log.Entries, e => e.EventId.Id == 30);
        Assert.IsType<SomeFloats>(await healthy.ReceiveAsync().Within());
        Assert.Equal(new Move(7, 7), await healthy.ReceiveAsync().Within());
        await server.Log.WaitForAsync(e => e.EventId.Id == 16);
    }

    /// <summary>Moves go to everyone but their sender.</summary>
    private sealed class EchoToOthersRoom : TimeRoom
    {
        protected override void Handle(Connection connection, IMessage message)
        {
            if (message is Move move)
            {
                Broadcast(move, except: connection);
                return;
            }

            base.Handle(connection, message);
        }
    }

    /// <summary>The test room, which also closes a connection that sends <c>Explode("close me")</c>.</summary>
    internal sealed class ClosingRoom : TimeRoom
    {
        protected override void Handle(Connection connection, IMessage message)
        {
            if (message is Explode { Reason: "close me" })
            {
                connection.Close("closed by the room");
                return;
            }

            base.Handle(connection, message);
        }
    }

    private sealed class ThrowingHooksRoom : TimeRoom
    {
        public int Entered { get; private set; }

        protected override void OnUserEnter(Connection connection)
        {
            Entered++;
            throw new InvalidOperationException("enter failed");
        }

        protected override void OnUserLeave(Connection connection) => throw new InvalidOperationException("leave failed");
    }

    /// <summary>Answers a request for floats with many 64 KB replies, then a broadcast, recording when the connection was dropped.</summary>
    private sealed class FloodingRoom : TimeRoom
    {
        public const int Sends = 400;

        public TaskCompletionSource Flooded { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int DroppedAfter { get; private set; }

        public long QueuedWhenDropped { get; private set; }

        public long QueuedAtTheEnd { get; private set; }

        protected override void Handle(Connection connection, IMessage message)
        {
            if (message is not PleaseMayIHaveSomeFloats(_, int doubles))
            {
                base.Handle(connection, message);
                return;
            }

            var reply = new SomeFloats([], new double[doubles]);
            for (int i = 1; i <= Sends; i++)
            {
                connection.Send(reply);
                if (!connection.IsOpen && DroppedAfter == 0)
                {
                    DroppedAfter = i;
                    QueuedWhenDropped = TestServer.QueuedBytes(connection);
                }
            }

            Broadcast(reply);
            Broadcast(new Move(7, 7));
            QueuedAtTheEnd = TestServer.QueuedBytes(connection);
            Flooded.TrySetResult();
        }
    }
}
