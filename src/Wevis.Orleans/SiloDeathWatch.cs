using Orleans.Runtime;

namespace Wevis.Orleans;

/// <summary>
/// Hears the cluster's membership change and acts on each silo that died: the rooms active on this node let the
/// dead gateway's users leave (leave hooks run, seats are given back), or hold its resumable users as dropped for
/// the resume grace period (they may resume at another gateway), and this gateway's users whose room was on the
/// dead silo are entered again into it, restarted on a live node (with its saved state, if it is persistent).
/// </summary>
internal sealed class SiloDeathWatch(IClusterMembershipService membership, NodeRooms node, WevisGateway gateway) : DeadSiloWatch(membership)
{
    protected override async Task OnDeadAsync(string silo)
    {
        OrleansLog.NodeDead(node.Logger, silo);
        List<Task> work = [];
        foreach (string room in node.ActiveRooms)
        {
            work.Add(node.Room(room).GatewayGone(silo));
        }

        foreach (GatewayUser user in gateway.Users)
        {
            work.Add(user.RecheckAsync());
        }

        try
        {
            await Task.WhenAll(work).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Each failure was logged where it happened (a user whose room cannot be reached is disconnected).
        }
    }
}
