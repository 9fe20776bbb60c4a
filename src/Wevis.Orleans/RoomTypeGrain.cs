using System.Globalization;
using System.Text.Json;

namespace Wevis.Orleans;

/// <summary>
/// One room type's rooms across the cluster, with what each one's listing shows, as the rooms report it. Join-or-create
/// runs one call at a time here, so racing users on any gateway fill one room before the next is made: it picks the
/// first room whose listing has a place and holds a seat there (one call); the room's own seat count keeps capacity,
/// and a room that refuses answers with its listing, which corrects this one.
/// </summary>
/// <remarks>
/// With a state store (<see cref="WevisClusterOptions.StateStorage"/> or <see cref="WevisClusterOptions.StateStore"/>)
/// the grain also saves which rooms it has and on which silo, written behind each change of that set (not of counts),
/// so that if it dies with the silo of some of its rooms, the activation that follows still knows them and makes them
/// again. Placed on the silo that first calls it: its rooms' reports and the directory's calls come from every node
/// anyway, and a random silo would be no nearer. Kept active while its silo lives: its listings exist only here, and
/// rooms report changes, not their state, so an activation collected when idle would come back knowing none of them.
/// </remarks>
[global::Orleans.Placement.PreferLocalPlacement]
[CollectionAgeLimit(AlwaysActive = true)]
internal sealed class RoomTypeGrain(NodeRooms node) : Grain, IRoomTypeGrain
{
    /// <summary>How many rooms one join-or-create asks before it makes a new one: each refusal corrects a stale listing.</summary>
    private const int MostRoomsAsked = 4;

    private readonly Dictionary<string, RoomListing> _rooms = new(StringComparer.Ordinal);

    /// <summary>The rooms in the order they were made, so join-or-create fills the oldest first, as on one server.</summary>
    private readonly List<string> _order = [];
    /// <summary>Each dead silo's revival of its rooms, by silo: done once, unless it failed.</summary>
    private readonly Dictionary<string, Task> _revivals = new(StringComparer.Ordinal);

    /// <summary>Rooms the saved list names (id, silo) that have not reported to this activation yet.</summary>
    private readonly Dictionary<string, string> _saved = new(StringComparer.Ordinal);
    private long _next;
    private Task _saving = Task.CompletedTask;
    private bool _unsaved;

    private string Type => this.GetPrimaryKeyString();

    /// <summary>The state store's key for this type's list: not a room id, which on a cluster starts with its type.</summary>
    private string SavedKey => "wevis-directory/" + Type;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (node.StateStore is not { } store)
        {
            return;
        }

        try
        {
            if (await store.ReadAsync(SavedKey, cancellationToken) is { } bytes
                && JsonSerializer.Deserialize<SavedRooms>(bytes) is { } saved)
            {
                _next = Math.Max(_next, saved.Next);
                foreach ((string id, string silo) in saved.Rooms)
                {
                    _saved.TryAdd(id, silo);
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            OrleansLog.DirectoryNotSaved(node.Logger, ex, Type);
        }
    }

    public async Task<SeatAnswer> JoinOrCreate(bool mayCreate, string? holder)
    {
        List<string>? refused = null;
        for (int asked = 0; asked < MostRoomsAsked && FirstWithPlace(refused) is { } id; asked++)
        {
            SeatForType answer = await RoomCalls.CallAsync(() => GrainFactory.GetGrain<IRoomGrain>(id).HoldSeatForType(Type, holder), node.Time);
            Apply(answer.Listing);
            if (answer.Refusal is null)
            {
                return new SeatAnswer(id, null);
            }

            (refused ??= []).Add(id);
        }

        return mayCreate ? await Create(holder) : new SeatAnswer(null, $"no room of type '{Type}' has a place, and clients may not create them");
    }

    public async Task<SeatAnswer> Create(string? holder)
    {
        string id = NextFreeId();
        SeatForType answer = await RoomCalls.CallAsync(() => GrainFactory.GetGrain<IRoomGrain>(id).HoldSeatForType(Type, holder), node.Time);
        Apply(answer.Listing);
        return answer.Refusal is null ? new SeatAnswer(id, null) : new SeatAnswer(null, answer.Refusal);
    }

    public Task<string> NewId() => Task.FromResult(NextFreeId());

    public Task Report(RoomListing listing)
    {
        Apply(listing);
        return Task.CompletedTask;
    }

    public Task<ClusterRoomInfo[]> List() =>
        Task.FromResult<ClusterRoomInfo[]>([.. _rooms.Values.Select(listing => listing.Info).OrderBy(info => info.Id, StringComparer.Ordinal)]);

    public Task<ClusterRoomInfo?> Find(string id) => Task.FromResult(_rooms.TryGetValue(id, out RoomListing? listing) ? listing.Info : null);

    public async Task SiloDead(string silo)
    {
        // Every live silo tells us, at about the same time (the calls interleave): the first revives the silo's rooms
        // and the others wait for it. A call that waited for a revival that failed tries once more itself (one of them
        // starts it, the rest wait again), so a failure is not shared by every node's call; its own failure goes to its
        // node, which logs it.
        for (int attempt = 0; ; attempt++)
        {
            bool mine = false;
            if (!_revivals.TryGetValue(silo, out Task? revival) || revival.IsFaulted || revival.IsCanceled)
            {
                revival = ReviveRoomsOfAsync(silo);
                _revivals[silo] = revival;
                mine = true;
            }

            try
            {
                await revival;
                return;
            }
            catch (Exception) when (!mine && attempt == 0)
            {
                // Another call's revival failed: this call's turn to try.
            }
        }
    }

    private async Task ReviveRoomsOfAsync(string silo)
    {

        // Each room that was there comes back on a live silo (its users' gateways enter them again meanwhile),
        // and its report replaces what it showed before.
        // Rooms known only from the saved list (this grain died with them) count too.
        string[] lost =
        [
            .. _rooms.Values.Where(listing => listing.Silo == silo).Select(listing => listing.Info.Id),
            .. _saved.Where(saved => saved.Value == silo).Select(saved => saved.Key),
        ];
        await Task.WhenAll(lost.Select(id => RoomCalls.CallAsync(async () =>
        {
            await GrainFactory.GetGrain<IRoomGrain>(id).Revive(Type);
            return true;
        }, node.Time)));
    }

    /// <summary>Keeps what a room's listing shows, unless a newer report of the same activation is already here.</summary>
    private void Apply(RoomListing listing)
    {
        // The saved list changes when a room comes, goes or moves to another silo; not with its counts.
        string id = listing.Info.Id;
        string? silo = _rooms.TryGetValue(id, out RoomListing? known) ? known.Silo : _saved.GetValueOrDefault(id);
        _saved.Remove(id);
        ApplyListing(listing);
        if (silo != (_rooms.TryGetValue(id, out known) ? known.Silo : null))
        {
            SaveSoon();
        }
    }

    private void ApplyListing(RoomListing listing)
    {
        string id = listing.Info.Id;
        if (_rooms.TryGetValue(id, out RoomListing? known))
        {
            if (known.Activation == listing.Activation && known.Version > listing.Version)
            {
                return;
            }

            if (listing.IsDisposed)
            {
                _rooms.Remove(id);
                _order.Remove(id);
                return;
            }

            _rooms[id] = listing;
            return;
        }

        if (listing.IsDisposed)
        {
            return;
        }

        _rooms[id] = listing;
        _order.Add(id);

        // A room reactivated after this grain's node died: new ids must not reuse its number.
        if (id.StartsWith(Type + "-", StringComparison.Ordinal)
            && long.TryParse(id.AsSpan(Type.Length + 1), NumberStyles.None, CultureInfo.InvariantCulture, out long number))
        {
            _next = Math.Max(_next, number);
        }
    }

    private string? FirstWithPlace(List<string>? refused)
    {
        foreach (string id in _order)
        {
            if (_rooms[id].HasPlace && refused?.Contains(id) != true)
            {
                return id;
            }
        }

        return null;
    }

    /// <summary>Saves the list of rooms behind the change that called this: one write at a time, the last one with every change.</summary>
    private void SaveSoon()
    {
        if (node.StateStore is null)
        {
            return;
        }

        _unsaved = true;
        if (_saving.IsCompleted)
        {
            _saving = SaveAsync(node.StateStore);
        }
    }

    private async Task SaveAsync(IRoomStateStore store)
    {
        try
        {
            while (_unsaved)
            {
                _unsaved = false;
                var rooms = new Dictionary<string, string>(_saved, StringComparer.Ordinal);
                foreach (RoomListing listing in _rooms.Values)
                {
                    rooms[listing.Info.Id] = listing.Silo;
                }

                await store.WriteAsync(SavedKey, JsonSerializer.SerializeToUtf8Bytes(new SavedRooms(_next, rooms)));
            }
        }
        catch (Exception ex)
        {
            // The next change writes the whole list again.
            OrleansLog.DirectoryNotSaved(node.Logger, ex, Type);
        }
    }

    private string NextFreeId()
    {
        string id;
        do
        {
            id = $"{Type}-{++_next}";
        }
        while (_rooms.ContainsKey(id));

        return id;
    }
}

/// <summary>What a room type's grain saves: the highest room number it gave, and each room's silo.</summary>
internal sealed record SavedRooms(long Next, Dictionary<string, string> Rooms);
