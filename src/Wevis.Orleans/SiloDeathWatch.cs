using Microsoft.Extensions.Hosting;
using Orleans.Runtime;

namespace Wevis.Orleans;

/// <summary>
/// Hears the cluster's membership change and acts on each silo that died: the rooms active on this node let the
/// dead gateway's users leave (leave hooks run, seats are given back), or hold its resumable users as dropped for
/// the resume grace period (they may resume at another gateway), and this gateway's users whose room was on the
/// dead silo are entered again into it, restarted on a live node (with its saved state, if it is persistent).
/// </summary>
internal sealed class SiloDeathWatch(IClusterMembershipService membership, NodeRooms node, WevisGateway gateway) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        HashSet<SiloAddress> dead = [];
        try
        {
            await foreach (ClusterMembershipSnapshot snapshot in membership.MembershipUpdates.WithCancellation(stoppingToken).ConfigureAwait(false))
            {
                foreach (ClusterMember member in snapshot.Members.Values)
                {
                    if (member.Status == SiloStatus.Dead && dead.Add(member.SiloAddress))
                    {
                        await OnDeadAsync(member.SiloAddress.ToParsableString()).ConfigureAwait(false);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task OnDeadAsync(string silo)
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
