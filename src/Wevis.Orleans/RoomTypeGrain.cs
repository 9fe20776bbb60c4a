using System.Globalization;

namespace Wevis.Orleans;

/// <summary>
/// One room type's rooms across the cluster. Join-or-create runs one call at a time here, so racing users on any
/// gateway fill one room before the next is made; the rooms' own seat counts keep capacity.
/// </summary>
internal sealed class RoomTypeGrain : Grain, IRoomTypeGrain
{
    private readonly List<string> _rooms = [];
    private long _next;

    private string Type => this.GetPrimaryKeyString();

    public async Task<SeatAnswer> JoinOrCreate(bool mayCreate)
    {
        foreach (string id in _rooms.ToArray())
        {
            if (await GrainFactory.GetGrain<IRoomGrain>(id).HoldSeat(Type, force: false, create: true) is null)
            {
                return new SeatAnswer(id, null);
            }
        }

        return mayCreate ? await Create() : new SeatAnswer(null, $"no room of type '{Type}' has a place, and clients may not create them");
    }

    public async Task<SeatAnswer> Create()
    {
        string id = $"{Type}-{++_next}";
        _rooms.Add(id);
        string? refusal = await GrainFactory.GetGrain<IRoomGrain>(id).HoldSeat(Type, force: false, create: true);
        return refusal is null ? new SeatAnswer(id, null) : new SeatAnswer(null, refusal);
    }

    public Task Remember(string id)
    {
        if (!_rooms.Contains(id))
        {
            _rooms.Add(id);
        }

        // A room reactivated after this grain's node died: new ids must not reuse its number.
        if (id.StartsWith(Type + "-", StringComparison.Ordinal)
            && long.TryParse(id.AsSpan(Type.Length + 1), NumberStyles.None, CultureInfo.InvariantCulture, out long number))
        {
            _next = Math.Max(_next, number);
        }

        return Task.CompletedTask;
    }

    public Task Forget(string id)
    {
        _rooms.Remove(id);
        return Task.CompletedTask;
    }

    public async Task<ClusterRoomInfo[]> List()
    {
        ClusterRoomInfo?[] infos = await Task.WhenAll(_rooms.ToArray().Select(id => GrainFactory.GetGrain<IRoomGrain>(id).Info()));
        return [.. infos.OfType<ClusterRoomInfo>().OrderBy(info => info.Id, StringComparer.Ordinal)];
    }
}
