using Microsoft.Extensions.Time.Testing;
using Wevis.Samples.Chat;
using Wevis.Testing;
using Wevis.Tests.Shared;

namespace Wevis.Samples.Tests;

/// <summary>The chat sample: the lobby and channels as rooms, users moving between them, channels closing when idle.</summary>
public class ChatTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task TheDemoShowsTheLobbyChannelsHistoryMovesAndLeaving()
    {
        using DotnetProcess demo = DotnetProcess.Start([Repository.SampleDll("Chat")]);

        Assert.True(await demo.WaitForExitAsync(Bound) == 0, demo.Transcript);
        Assert.Equal(
            [
                "ada logged in: Hello ada. 0 channel(s) open; open one with OpenChannel.",
                "ben logged in: Hello ben. 0 channel(s) open; open one with OpenChannel.",
                "cy logged in: Hello cy. 0 channel(s) open; open one with OpenChannel.",
                "ada opened #general; she is in general",
                "ben opened #general; ada sees: ben joined",
                "ben sees: ada: hello ben",
                "cy opened #general and was given the history: ada: hello ben",
                "ben moved to #random; cy sees: ben left",
                "cy lists the channels: #general (2), #random (1)",
                "ben went back to the lobby: Hello ben. 2 channel(s) open; open one with OpenChannel.",
            ],
            demo.Output.Skip(1));
    }

    [Fact]
    public async Task AChannelNoOneSpeaksInForItsIdleTimeClosesAndSendsItsUsersToTheLobby()
    {
        var clock = new FakeTimeProvider();
        await using InMemoryServer server = StartInMemory(clock);
        await using Client ada = await ConnectAsync(server, "ada");
        await using Client ben = await ConnectAsync(server, "ben");
        ada.Send(new OpenChannel("quiet"));
        await Receive<UserJoined>(ada);
        ben.Send(new OpenChannel("quiet"));
        await Receive<UserJoined>(ben);
        await Receive<UserJoined>(ada);

        // Speaking resets the clock: nine minutes later, then nine more, the channel is still open.
        clock.Advance(TimeSpan.FromMinutes(9));
        ada.Send(new Say("still here"));
        await Receive<Said>(ada);
        await Receive<Said>(ben);
        clock.Advance(TimeSpan.FromMinutes(9));
        Room quiet = Assert.IsAssignableFrom<Room>(server.Rooms.Find("quiet"));
        Assert.False(quiet.IsClosed);

        Task<RoomChangedEventArgs> adaMoved = NextRoomChange(ada);
        clock.Advance(TimeSpan.FromMinutes(1));

        RoomChangedEventArgs moved = await adaMoved.WaitAsync(Bound);
        Assert.Equal("lobby", moved.Room.Id);
        Assert.Equal("the room quiet was closed: no one said anything for 10 minutes", moved.Reason);
        Assert.StartsWith("Hello ada.", (await Receive<Greeting>(ada)).Text);
        // The users leave in the order they came: ben hears ada go before he goes himself.
        Assert.Equal(new UserLeft("ada"), await Receive<UserLeft>(ben));
        Assert.StartsWith("Hello ben.", (await Receive<Greeting>(ben)).Text);
        Assert.Equal("lobby", ben.Room?.Id);
        // Closed now; it is disposed (and gone from the directory) a moment later, off this thread.
        Assert.True(quiet.IsClosed);
    }

    [Fact]
    public async Task ANewcomerIsGivenTheLastTwentyLinesAndTheOthersHearThatTheyJoined()
    {
        await using InMemoryServer server = StartInMemory(TimeProvider.System);
        await using Client ada = await ConnectAsync(server, "ada");
        ada.Send(new OpenChannel("busy"));
        await Receive<UserJoined>(ada);
        for (int i = 0; i < 25; i++)
        {
            ada.Send(new Say($"line {i}"));
        }

        for (int i = 0; i < 25; i++)
        {
            await Receive<Said>(ada);
        }

        await using Client ben = await ConnectAsync(server, "ben");
        ben.Send(new OpenChannel("busy"));
        for (int i = 5; i < 25; i++)
        {
            Assert.Equal(new Said("ada", $"line {i}"), await Receive<Said>(ben));
        }

        Assert.Equal(new UserJoined("ben"), await Receive<UserJoined>(ben));
        Assert.Equal(new UserJoined("ben"), await Receive<UserJoined>(ada));
    }

    [Fact]
    public async Task BadNamesLongLinesAndTalkingInTheLobbyAreRefusedWithAReason()
    {
        await using InMemoryServer server = StartInMemory(TimeProvider.System);
        await using Client ada = await ConnectAsync(server, "ada");

        ada.Send(new Say("anyone?"));
        Assert.Equal("You are in the lobby: open a channel to talk.", (await Receive<Refused>(ada)).Reason);
        ada.Send(new OpenChannel("no spaces"));
        Assert.Contains("letters, digits or '-'", (await Receive<Refused>(ada)).Reason);
        ada.Send(new OpenChannel("lobby"));
        Assert.Equal("That name is the lobby's.", (await Receive<Refused>(ada)).Reason);

        ada.Send(new OpenChannel("ok"));
        await Receive<UserJoined>(ada);
        ada.Send(new Say(new string('x', ChannelRoom.MaxLineLength + 1)));
        Assert.Contains("1 to 500 characters", (await Receive<Refused>(ada)).Reason);
        await Assert.ThrowsAsync<JoinRefusedException>(() => ada.CreateRoomAsync(ChatRoomBase.ChannelType));
    }

    /// <summary>The chat server in memory (Wevis.Testing): no sockets, on the test's clock.</summary>
    private static InMemoryServer StartInMemory(TimeProvider clock) =>
        // Pings off: the fake clock jumps minutes at a time, while a ping's answer takes real time to arrive.
        InMemoryServer.Start(options => ChatServer.Create(options), new ServerOptions { TimeProvider = clock, PingInterval = TimeSpan.FromDays(1) });

    private static async Task<Client> ConnectAsync(InMemoryServer server, string user)
    {
        Client client = server.CreateClient(user, ChatServer.Password, ChatServer.Version, new ClientOptions { Messages = WevisRegistry.Messages });
        await client.ConnectAsync();
        await Receive<Greeting>(client);
        return client;
    }

    private static async Task<T> Receive<T>(Client client)
        where T : IMessage => await client.ReceiveAsync<T>().AsTask().WaitAsync(Bound);

    private static Task<RoomChangedEventArgs> NextRoomChange(Client client)
    {
        var changed = new TaskCompletionSource<RoomChangedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.RoomChanged += (_, args) => changed.TrySetResult(args);
        return changed.Task;
    }
}
