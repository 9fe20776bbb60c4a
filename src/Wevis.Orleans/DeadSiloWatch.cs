using Microsoft.Extensions.Hosting;
using Orleans.Runtime;

namespace Wevis.Orleans;

/// <summary>
/// Follows the cluster's membership and calls <see cref="OnDeadAsync"/> once for each silo declared dead, one at a
/// time, in the order the snapshots show them: what a node does about a death is in its subclasses, the watching here.
/// </summary>
internal abstract class DeadSiloWatch(IClusterMembershipService membership) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Each snapshot lists every member, the dead ones again and again: act on a death the first time only.
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

    /// <summary>What this node does when the silo <paramref name="silo"/> (its parsable address) has died.</summary>
    protected abstract Task OnDeadAsync(string silo);
}
