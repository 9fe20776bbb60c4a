using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace Wevis.Orleans;

/// <summary>
/// Places a grain on a silo other than the one whose call activates it (any, if it is alone): for a session's grain,
/// which its gateway activates at the login, so that the gateway's death does not take the session's record with it
/// (without a state store the record lives only in the grain).
/// </summary>
[GenerateSerializer]
[Immutable]
internal sealed class AwayFromCallerPlacement : PlacementStrategy
{
    internal static readonly AwayFromCallerPlacement Instance = new();
}

/// <summary>Puts a grain on a silo other than the caller's (see <see cref="AwayFromCallerPlacement"/>).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
internal sealed class AwayFromCallerPlacementAttribute() : PlacementAttribute(AwayFromCallerPlacement.Instance);

/// <summary>Picks at random among the compatible silos but the one placing the grain (the caller's: placement runs where the first call is sent from).</summary>
internal sealed class AwayFromCallerPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        SiloAddress[] silos = context.GetCompatibleSilos(target);
        SiloAddress[] others = [.. silos.Where(silo => !silo.Equals(context.LocalSilo))];
        SiloAddress[] choice = others.Length > 0 ? others : silos;
        return Task.FromResult(choice[Random.Shared.Next(choice.Length)]);
    }
}
