namespace Wevis.Orleans;

/// <summary>
/// A logged-in user as the cluster's grains see them: who they are, which gateway holds their connection, and where
/// that gateway hears what rooms send them.
/// </summary>
/// <param name="GatewayId">The gateway (silo) that holds the user's connection.</param>
/// <param name="Session">The connection's number on that gateway.</param>
/// <param name="Name">The user's name, as the login validator returned it.</param>
/// <param name="Gateway">The gateway's observer, which takes the frames rooms send the user.</param>
/// <param name="Resumable">Whether the user's session is resumable: a delivery then returns only once what the room sent in answer is at the gateway, and the room keeps what the client has not acknowledged.</param>
/// <param name="ResumeKey">The key of the session's <see cref="ISessionGrain"/>, for a resumable session the cluster records; null otherwise.</param>
/// <param name="Holding">
/// Which holding of the session this is: 0 at the login, and at each takeover by another gateway one more than the
/// holding the user's room knew (the room gives it, so two gateways that took the user over do not share one, unless a
/// room of a version before the room gave it answered one of them). It orders
/// a session's holders, it does not count them: a takeover that failed after the claim may skip a number. The
/// session's record takes a gateway's word only if its holding is no older than the record's: a gateway that lost the
/// user, but had not heard so yet, cannot write itself back as the holder.
/// </param>
[GenerateSerializer]
[Immutable]
internal sealed record ClusterUser(
    [property: Id(0)] string GatewayId,
    [property: Id(1)] long Session,
    [property: Id(2)] string Name,
    [property: Id(3)] IGatewayObserver Gateway,
    [property: Id(4)] bool Resumable,
    [property: Id(5)] string? ResumeKey = null,
    [property: Id(6)] int Holding = 0)
{
    /// <summary>
    /// Who a seat held for this user in a room is for (<see cref="IRoomGrain.HoldSeat"/>): the session, under every
    /// gateway that holds it (the resume key), or this gateway's connection for a session that cannot move.
    /// </summary>
    public string SeatHolder => ResumeKey ?? $"{GatewayId}/{Session}";
}
