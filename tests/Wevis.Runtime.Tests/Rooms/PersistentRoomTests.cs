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
        await using TestServer server = await PantryWithFlourAsync(store);
        var room = (ShelfRoom)server.Server.Rooms.Find("pantry")!;
        Assert.Equal(1, store.Count);

        await server.Server.Rooms.CloseAsync(room, "emptied").WaitAsync(Bound);
        Assert.Equal("pantry", await store.Cleared.Task.WaitAsync(Bound));
        Assert.Equal(0, store.Count);
    }

    [Fact]
    public async Task ARoomMadeAgainWhileTheClosedOnesStateIsBeingForgottenWaitsForThatAndStartsAnew()
    {
        var store = new SignallingStore { HoldClears = new(TaskCreationOptions.RunContinuationsAsynchronously) };
        await using TestServer server = await PantryWithFlourAsync(store);
        var room = (ShelfRoom)server.Server.Rooms.Find("pantry")!;

        await server.Server.Rooms.CloseAsync(room, "emptied").WaitAsync(Bound);
        Assert.Equal("pantry", await store.ClearStarted.Task.WaitAsync(Bound));
        Task<Room> madeAgain = server.Server.Rooms.CreateAsync("shelf", "pantry");
        store.HoldClears.SetResult();

        var again = (ShelfRoom)await madeAgain.WaitAsync(Bound);
        Assert.False(again.RestoredAtCreation);
        Assert.Empty(again.ItemsAtCreation);
        await again.AddAsync("rice").WaitAsync(Bound);
        Assert.Equal(["rice"], await store.ItemsAsync("pantry"));
    }

    [Fact]
    public async Task ARoomMadeAgainBeforeTheClosedOneForgetsItsStateForgetsItInsteadAndKeepsWhatItSaves()
    {
        var store = new SignallingStore();
        await using TestServer server = await PantryWithFlourAsync(store);
        var room = (ShelfRoom)server.Server.Rooms.Find("pantry")!;
        room.HoldDisposal = new(TaskCreationOptions.RunContinuationsAsynchronously);

        // The closed room's disposal waits in its disposed hook, before it would forget its state.
        await server.Server.Rooms.CloseAsync(room, "emptied").WaitAsync(Bound);
        await room.DisposalBegun.Task.WaitAsync(Bound);
        var again = (ShelfRoom)await server.Server.Rooms.CreateAsync("shelf", "pantry").WaitAsync(Bound);
        Assert.False(again.RestoredAtCreation);
        await again.AddAsync("rice").WaitAsync(Bound);

        room.HoldDisposal.SetResult();
        await server.Log.WaitForAsync(e => e.Message == "Room pantry disposed", Bound);
        Assert.Equal(["rice"], await store.ItemsAsync("pantry"));
    }

    [Fact]
    public async Task RoomCodeThatClosesItsOwnRoomAndAwaitsMakingItAgainIsNotKeptWaiting()
    {
        await using TestServer server = await PantryWithFlourAsync(new MemoryRoomStateStore());
        var room = (ShelfRoom)server.Server.Rooms.Find("pantry")!;

        // The old room's disposal waits for its turn, which this code holds until the new room is made.
        var again = (ShelfRoom)await room.RestartAsync().WaitAsync(Bound);
        Assert.NotSame(room, again);
        Assert.False(again.RestoredAtCreation);
    }

    /// <summary>An in-memory server with <paramref name="store"/> and a shelf room "pantry" holding "flour", saved.</summary>
    private static async Task<TestServer> PantryWithFlourAsync(IRoomStateStore store)
    {
        TestServer server = await TestServer.StartInMemoryAsync(o => o.RoomStateStore = store);
        server.Server.Rooms.Define<ShelfRoom>("shelf");
        var pantry = (ShelfRoom)await server.Server.Rooms.CreateAsync("shelf", "pantry").WaitAsync(Bound);
        await pantry.AddAsync("flour").WaitAsync(Bound);
        return server;
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

        /// <summary>Awaited by the disposed hook, if set.</summary>
        public TaskCompletionSource? HoldDisposal { get; set; }

        public TaskCompletionSource DisposalBegun { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Closes this room and makes one of the same id, from this room's code.</summary>
        public Task<Room> RestartAsync()
        {
            Room? made = null;
            return InvokeAsync(async () =>
            {
                await CloseAsync("restart");
                made = await Rooms.CreateAsync(Type, Id);
            }).ContinueWith(_ => made!, TaskScheduler.Default);
        }

        protected override async ValueTask OnDisposedAsync()
        {
            DisposalBegun.TrySetResult();
            if (HoldDisposal is { } hold)
            {
                await hold.Task;
            }
        }

        protected override void OnCreated()
        {
            RestoredAtCreation = IsRestored;
            ItemsAtCreation = [.. State.Items];
        }
    }

    /// <summary>A memory store that says when a room's state was forgotten, and can hold a clear until told.</summary>
    private sealed class SignallingStore : IRoomStateStore
    {
        private readonly MemoryRoomStateStore _inner = new();

        public TaskCompletionSource<string> Cleared { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<string> ClearStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>If set, a clear waits for it.</summary>
        public TaskCompletionSource? HoldClears { get; init; }

        public int Count => _inner.Count;

        public async Task<List<string>?> ItemsAsync(string roomId) =>
            await _inner.ReadAsync(roomId) is { } saved ? System.Text.Json.JsonSerializer.Deserialize<Shelf>(saved)!.Items : null;

        public ValueTask<byte[]?> ReadAsync(string roomId, CancellationToken cancellationToken = default) => _inner.ReadAsync(roomId, cancellationToken);

        public ValueTask WriteAsync(string roomId, ReadOnlyMemory<byte> state, CancellationToken cancellationToken = default) => _inner.WriteAsync(roomId, state, cancellationToken);

        public async ValueTask ClearAsync(string roomId, CancellationToken cancellationToken = default)
        {
            ClearStarted.TrySetResult(roomId);
            if (HoldClears is { } hold)
            {
                await hold.Task;
            }

            await _inner.ClearAsync(roomId, cancellationToken);
            Cleared.TrySetResult(roomId);
        }
    }
}
