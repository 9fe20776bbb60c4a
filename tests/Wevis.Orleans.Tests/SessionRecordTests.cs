using Wevis.Tests.Shared;

namespace Wevis.Orleans.Tests;

/// <summary>
/// The session grain's record of who holds a resumable session: a gateway that lost the user to a takeover, and said
/// something of them before it heard, must not write itself back as the holder (the next resume elsewhere would then
/// ask the wrong gateway to let go, and the room to switch the user away from a gateway that no longer has them).
/// </summary>
[Collection("cluster")]
public sealed class SessionRecordTests
{
    private const string Token = "session-record-test-token";

    [Fact]
    public async Task AFormerHoldersLateWordDoesNotTakeTheRecordBackButTheHoldersOwnIsTaken()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync(silos: 2);
        ISessionGrain record = cluster.Cluster.Client.GetGrain<ISessionGrain>(SessionKeys.Key(Token));
        byte[] verifier = SessionKeys.Verifier(Token);
        var first = new ClusterUser("gateway-a", 1, "ann", null!, Resumable: true, SessionKeys.Key(Token));
        var second = new ClusterUser("gateway-b", 7, "ann", null!, Resumable: true, SessionKeys.Key(Token), Holding: 1);
        await record.Register(verifier, first, "lobby", "lobby").Within();
        await record.HeldBy(second).Within();

        // The first gateway moved the user, re-recorded them, and said it holds them, before it heard it lost them.
        await record.Moved("table-1", "table", first).Within();
        await record.Register(verifier, first, "table-1", "table").Within();
        await record.HeldBy(first).Within();
        SessionClaim claim = await record.Claim(verifier, "ann").Within();
        Assert.Null(claim.Refusal);
        Assert.Equal(("gateway-b", 7L, 1), (claim.GatewayId, claim.Session, claim.Holding));
        Assert.Equal("lobby", claim.Room);

        // The holder's own move is taken; and a later takeover's word over it.
        await record.Moved("table-2", "table", second).Within();
        claim = await record.Claim(verifier, "ann").Within();
        Assert.Equal(("gateway-b", 7L, "table-2"), (claim.GatewayId, claim.Session, claim.Room));
        var third = new ClusterUser("gateway-c", 3, "ann", null!, Resumable: true, SessionKeys.Key(Token), Holding: 2);
        await record.HeldBy(third).Within();
        claim = await record.Claim(verifier, "ann").Within();
        Assert.Equal(("gateway-c", 3L, 2), (claim.GatewayId, claim.Session, claim.Holding));
    }
}
