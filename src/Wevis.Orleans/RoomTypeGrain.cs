using System.Globalization;

namespace Wevis.Orleans;

/// <summary>
/// One room type's rooms across the cluster, with what each one's listing shows, as the rooms report it. Join-or-create
/// runs one call at a time here, so racing users on any gateway fill one room before the next is made: it picks the
/// first room whose listing has a place and holds a seat there (one call); the room's own seat count keeps capacity,
/// and a room that refuses answers with its listing, which corrects this one.
/// </summary>
internal sealed class RoomTypeGrain : Grain, IRoomTypeGrain
{
    /// <summary>How many rooms one join-or-create asks before it makes a new one: each refusal corrects a stale listing.</summary>
    private const int MostRoomsAsked = 4;

    private readonly Dictionary<string, RoomListing> _rooms = new(StringComparer.Ordinal);

    /// <summary>The rooms in the order they were made, so join-or-create fills the oldest first, as on one server.</summary>
    private readonly List<string> _order = [];
    private readonly HashSet<string> _deadSilos = new(StringComparer.Ordinal);
    private long _next;

    private string Type => this.GetPrimaryKeyString();

    public async Task<SeatAnswer> JoinOrCreate(bool mayCreate)
    {
        List<string>? refused = null;
        for (int asked = 0; asked < MostRoomsAsked && FirstWithPlace(refused) is { } id; asked++)
        {
            SeatForType answer = await RoomCalls.CallAsync(() => GrainFactory.GetGrain<IRoomGrain>(id).HoldSeatForType(Type));
            Apply(answer.Listing);
            if (answer.Refusal is null)
            {
                return new SeatAnswer(id, null);
            }

            (refused ??= []).Add(id);
        }

        return mayCreate ? await Create() : new SeatAnswer(null, $"no room of type '{Type}' has a place, and clients may not create them");
    }

    public async Task<SeatAnswer> Create()
    {
        string id = NextFreeId();
        SeatForType answer = await RoomCalls.CallAsync(() => GrainFactory.GetGrain<IRoomGrain>(id).HoldSeatForType(Type));
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
        // Every live silo tells us; once is enough.
        if (!_deadSilos.Add(silo))
        {
            return;
        }

        // Each room that was there comes back on a live silo (its users' gateways enter them again meanwhile),
        // and its report replaces what it showed before.
        string[] lost = [.. _rooms.Values.Where(listing => listing.Silo == silo).Select(listing => listing.Info.Id)];
        await Task.WhenAll(lost.Select(id => RoomCalls.CallAsync(async () =>
        {
            await GrainFactory.GetGrain<IRoomGrain>(id).Revive(Type);
            return true;
        })));
    }

    /// <summary>Keeps what a room's listing shows, unless a newer report of the same activation is already here.</summary>
    private void Apply(RoomListing listing)
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
