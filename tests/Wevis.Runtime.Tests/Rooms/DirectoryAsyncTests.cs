using Wevis.Runtime.Tests.Infrastructure;

namespace Wevis.Runtime.Tests.Rooms;

/// <summary>The directory's async calls (the ones a cluster answers for every node) on one server: the same answers as the synchronous ones.</summary>
public class DirectoryAsyncTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task FindListAndCloseByIdOnOneServerAnswerAsFindListAndCloseDo()
    {
        await using TestServer server = await TestServer.StartInMemoryAsync();
        RoomDirectory rooms = server.Server.Rooms;
        rooms.Define("chat", () => new ChatRoom(), new RoomTypeOptions { Capacity = 3 });
        Room general = await rooms.CreateAsync("chat", "general");
        await using Client client = await server.ConnectAsync("user1", "pw");
        await client.JoinRoomAsync("general").WaitAsync(Bound);
        general.Lock();

        Assert.Equal(new RoomInfo("general", "chat", 1, 3, true), await rooms.FindAsync("general").WaitAsync(Bound));
        Assert.Null(await rooms.FindAsync("nowhere").WaitAsync(Bound));
        Assert.Equal(rooms.List(), await rooms.ListAsync().WaitAsync(Bound));
        Assert.Equal(["general"], (await rooms.ListAsync("chat").WaitAsync(Bound)).Select(info => info.Id));

        var back = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.RoomChanged += (_, e) => back.TrySetResult(e.Room.Id + ": " + e.Reason);
        await rooms.CloseAsync("general", "closing time").WaitAsync(Bound);
        Assert.Equal("lobby: the room general was closed: closing time", await back.Task.WaitAsync(Bound));
        await Assert.ThrowsAsync<ArgumentException>(() => rooms.CloseAsync("nowhere", "no"));
    }
}
