namespace Wevis.Orleans;

/// <summary>
/// One resumable session on the cluster, keyed by <see cref="SessionKeys.Key"/> of its token: who the user is, which
/// room they are in, and which gateway holds them; so that a client whose gateway died can resume at another.
/// Gateways call it at the login, at each room change and at the session's end; never per message.
/// </summary>
internal interface ISessionGrain : IGrainWithStringKey
{
    /// <summary>
    /// The session began on <paramref name="user"/>'s gateway, in <paramref name="room"/>; or a gateway records it again
    /// (after a node's death). A record of the same session at a newer <see cref="ClusterUser.Holding"/> than
    /// <paramref name="user"/>'s is kept: the gateway re-recording it has lost it to a takeover.
    /// </summary>
    Task Register(byte[] verifier, ClusterUser user, string room, string type);

    /// <summary>
    /// The user is now in <paramref name="room"/>, held by <paramref name="by"/>'s gateway: said again at each room
    /// change, so a record a takeover could not update (<see cref="HeldBy"/> failed) is right again after the next.
    /// Ignored if <paramref name="by"/>'s <see cref="ClusterUser.Holding"/> is older than the record's: a gateway that
    /// has lost the user to a takeover, and moved them before it heard, does not write itself back as the holder.
    /// </summary>
    Task Moved(string room, string type, ClusterUser by);

    /// <summary>
    /// A gateway resumes the session for a client that logged in as <paramref name="userName"/> and presented the
    /// token behind <paramref name="verifier"/>: where the session is (its room, the gateway holding it), or why not.
    /// Nothing changes until the room has switched the user (<see cref="HeldBy"/>), so a takeover that fails leaves
    /// the record pointing where the user still is.
    /// </summary>
    Task<SessionClaim> Claim(byte[] verifier, string userName);

    /// <summary>
    /// The user's room switched them to <paramref name="by"/>'s gateway (a takeover): the session is held there now;
    /// ignored if <paramref name="by"/>'s <see cref="ClusterUser.Holding"/> is older than the record's.
    /// </summary>
    Task HeldBy(ClusterUser by);

    /// <summary>
    /// The session ended while held by <paramref name="gatewayId"/> as its <paramref name="session"/>: the grain
    /// forgets it (unless another gateway has claimed it since). With a <paramref name="reason"/> (it expired, or could
    /// not be kept: not the user's leaving), a resume that comes later is told it, for a while, as a single server
    /// tells it; without one, such a resume hears that the token is not valid.
    /// </summary>
    Task End(string gatewayId, long session, string? reason);
}

/// <summary>
/// Where a claimed session was: its room and the gateway that held it (its observer, if known) and that gateway's
/// <see cref="ClusterUser.Holding"/>, or why it cannot be resumed.
/// </summary>
[GenerateSerializer]
[Immutable]
internal sealed record SessionClaim(
    [property: Id(0)] string? Refusal,
    [property: Id(1)] string? Room,
    [property: Id(2)] string? Type,
    [property: Id(3)] string? GatewayId,
    [property: Id(4)] long Session,
    [property: Id(5)] IGatewayObserver? Gateway,
    [property: Id(6)] int Holding = 0);
