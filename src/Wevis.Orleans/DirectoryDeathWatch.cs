using Orleans.Runtime;

namespace Wevis.Orleans;

/// <summary>
/// Keeps the cluster's room directory right when a silo dies: the room type grains bring back the rooms that were on
/// it (they report themselves again from a live silo), and this node's rooms report themselves again, in case a
/// type grain died with the silo and came back empty.
/// </summary>
internal sealed class DirectoryDeathWatch(IClusterMembershipService membership, NodeRooms node) : DeadSiloWatch(membership)
{
    protected override async Task OnDeadAsync(string silo)
    {
        node.ListAllAgain();
        try
        {
            await Task.WhenAll(node.TypeNames.Select(type => RoomCalls.CallAsync(async () =>
            {
                await node.Grains.GetGrain<IRoomTypeGrain>(type).SiloDead(silo).ConfigureAwait(false);
                return true;
            }, node.Time))).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            OrleansLog.DeadNodeRoomsNotRevived(node.Logger, ex, silo);
        }
    }
}
