using Wevis.Runtime.Tests.Infrastructure;

namespace Wevis.Runtime.Tests.Rooms;

/// <summary>PersistentRoom: state read back before the created hook when a room of the same id is made again; forgotten when the room is disposed, not when the server stops.</summary>
public class PersistentRoomTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task StateSavedBeforeTheServerStopsIsReadBackBeforeOnCreatedWhenTheRoomIsMadeAgain()
    {
        var store = new SignallingStore();
        await using (TestServer first = await TestServer.StartInMemoryAsync(o => o.RoomStateStore = store))
        {
            first.Server.Rooms.Define<ShelfRoom>("shelf");
            var room = (ShelfRoom)await first.Server.Rooms.CreateAsync("shelf", "kitchen").WaitAsync(Bound);
            Assert.False(room.RestoredAtCreation);
            await room.AddAsync("salt").WaitAsync(Bound);
            await room.AddAsync("pepper").WaitAsync(Bound);

            // A user in it when the server stops: the room is emptied by the stop, which is not the room's end.
            await using Client cook = await first.ConnectAsync("user-cook", "pw");
            await cook.JoinRoomAsync("kitchen").WaitAsync(Bound);
            await first.Server.StopAsync().WaitAsync(Bound);
        }

        Assert.Equal(1, store.Count);
        await using TestServer second = await TestServer.StartInMemoryAsync(o => o.RoomStateStore = store);
        second.Server.Rooms.Define<ShelfRoom>("shelf");
        var again = (ShelfRoom)await second.Server.Rooms.CreateAsync("shelf", "kitchen").WaitAsync(Bound);
        Assert.True(again.RestoredAtCreation);
        Assert.Equal(["salt", "pepper"], again.ItemsAtCreation);
        Assert.True(again.IsRestored);
    }

    [Fact]
    public async Task ClosingARoomForgetsItsState()
    {
        var store = new SignallingStore();
        await using TestServer server = await TestServer.StartInMemoryAsync(o => o.RoomStateStore = store);
        server.Server.Rooms.Define<ShelfRoom>("shelf");
        var room = (ShelfRoom)await server.Server.Rooms.CreateAsync("shelf", "pantry").WaitAsync(Bound);
        await room.AddAsync("flour").WaitAsync(Bound);
        Assert.Equal(1, store.Count);

        await server.Server.Rooms.CloseAsync(room, "emptied").WaitAsync(Bound);
        Assert.Equal("pantry", await store.Cleared.Task.WaitAsync(Bound));
        Assert.Equal(0, store.Count);
    }

    public sealed class Shelf
    {
        public List<string> Items { get; set; } = [];
    }

    private sealed class ShelfRoom : PersistentRoom<Shelf>
    {
        public bool RestoredAtCreation { get; private set; }

        public List<string> ItemsAtCreation { get; private set; } = [];

        public Task AddAsync(string item) => InvokeAsync(async () =>
        {
            State.Items.Add(item);
            await SaveStateAsync();
        });

        protected override void OnCreated()
        {
            RestoredAtCreation = IsRestored;
            ItemsAtCreation = [.. State.Items];
        }
    }

    /// <summary>A memory store that says when a room's state was forgotten.</summary>
    private sealed class SignallingStore : IRoomStateStore
    {
        private readonly MemoryRoomStateStore _inner = new();

        public TaskCompletionSource<string> Cleared { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Count => _inner.Count;

        public ValueTask<byte[]?> ReadAsync(string roomId, CancellationToken cancellationToken = default) => _inner.ReadAsync(roomId, cancellationToken);

        public ValueTask WriteAsync(string roomId, ReadOnlyMemory<byte> state, CancellationToken cancellationToken = default) => _inner.WriteAsync(roomId, state, cancellationToken);

        public async ValueTask ClearAsync(string roomId, CancellationToken cancellationToken = default)
        {
            await _inner.ClearAsync(roomId, cancellationToken);
            Cleared.TrySetResult(roomId);
        }
    }
}
