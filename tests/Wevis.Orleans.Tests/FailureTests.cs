using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Wevis.Orleans.Tests.Messages;
using Wevis.Tests.Shared;

namespace Wevis.Orleans.Tests;

[Collection("cluster")]
public sealed class FailureTests
{
    [Fact]
    public async Task KillingTheRoomsSiloMidExchangeRestartsTheRoomElsewhereWithItsSavedState()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync();
        string roomId = await cluster.CreateRoomAsync("notes");
        var host = cluster.HostOf(roomId);
        Assert.NotNull(host);
        var others = cluster.Silos.Where(s => s != host).ToList();
        await using Client alice = await cluster.ConnectAsync("alice", others[0]);
        await using Client bob = await cluster.ConnectAsync("bob", others[1]);
        await alice.JoinRoomAsync(roomId).Within();
        await bob.JoinRoomAsync(roomId).Within();

        alice.Send(new SaveNote("a"));
        Assert.Equal(new Notes("a", false), await alice.WaitForAsync<Notes>().Within());
        bob.Send(new SaveNote("b"));
        Assert.Equal(new Notes("a,b", false), await WaitForNotesAsync(bob, "a,b"));

        var bobBack = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        bob.RoomChanged += (_, e) => bobBack.TrySetResult(e.Reason);
        await cluster.Cluster.KillSiloAsync(host!).Within(TimeSpan.FromSeconds(30));

        // Sent while the room's node is dead: handled once the room is back on a live node, with what was saved.
        alice.Send(new SaveNote("c"));
        Notes after = await WaitForNotesAsync(alice, "a,b,c");
        Assert.True(after.Restored);
        Assert.NotEqual(host!.SiloAddress, cluster.HostOf(roomId)?.SiloAddress);

        // Bob is entered again too, told why, and is heard.
        Assert.Equal("the room was restarted on another node", await bobBack.Task.Within(TimeSpan.FromSeconds(30)));
        bob.Send(new SaveNote("d"));
        Assert.Equal("a,b,c,d", (await WaitForNotesAsync(bob, "a,b,c,d")).Texts);
    }

    [Fact]
    public async Task KillingAGatewayTakesItsUsersWithOrdinarySessionsOutOfTheirRooms()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync();
        string roomId = await cluster.CreateRoomAsync("chat");
        var host = cluster.HostOf(roomId)!;
        var others = cluster.Silos.Where(s => s != host).ToList();
        // Alice's client knows two gateways but has an ordinary session (not resumable), which ends with her gateway.
        // (Resumable sessions move to another gateway: GatewayDeathTests.)
        DnsEndPoint[] gateways = [new("127.0.0.1", cluster.PortOf(others[0])), new("127.0.0.1", cluster.PortOf(host))];
        ClientOptions Options() => new() { Messages = WevisRegistry.Messages, ResumeSessions = false, ReconnectDelay = TimeSpan.FromMilliseconds(20) };
        var alice = new Client("alice", WevisTestCluster.Password, WevisTestCluster.Version, gateways, Options());
        await alice.ConnectAsync().Within(TimeSpan.FromSeconds(20));
        Assert.Equal(gateways[0].Port, alice.Port);
        await using Client bob = await cluster.ConnectAsync("bob", others[1]);
        await alice.JoinRoomAsync(roomId).Within();
        await bob.JoinRoomAsync(roomId).Within();
        bob.Send(new WhereAmI());
        Assert.Equal(2, (await bob.WaitForAsync<YouAreIn>().Within()).Count);

        await cluster.CrashGatewayAsync(others[0]).Within(TimeSpan.FromSeconds(30));

        // The room hears alice leave (her leave hook ran) once her gateway is declared dead.
        Said left = await bob.WaitForAsync<Said>().Within(TimeSpan.FromSeconds(30));
        Assert.Equal(("room", "alice left"), (left.From, left.Text));
        bob.Send(new WhereAmI());
        Assert.Equal(1, (await bob.WaitForAsync<YouAreIn>().Within()).Count);

        // Her session ended with the gateway; a new client with the same gateways skips the dead one, logs in on the
        // other, and can rejoin.
        await Assert.ThrowsAsync<ConnectionClosedException>(async () =>
        {
            while (true)
            {
                await alice.ReceiveAsync().AsTask().Within(TimeSpan.FromSeconds(30));
            }
        });
        Assert.Equal(0, alice.ResumeCount);
        await alice.DisposeAsync();
        await using var again = new Client("alice", WevisTestCluster.Password, WevisTestCluster.Version, gateways, Options());
        await again.ConnectAsync().Within(TimeSpan.FromSeconds(20));
        Assert.Equal(gateways[1].Port, again.Port);
        await again.JoinRoomAsync(roomId).Within();
        bob.Send(new WhereAmI());
        Assert.Equal(2, (await bob.WaitForAsync<YouAreIn>().Within()).Count);
    }

    private static async Task<Notes> WaitForNotesAsync(Client client, string texts)
    {
        while (true)
        {
            Notes notes = await client.WaitForAsync<Notes>().Within(TimeSpan.FromSeconds(45));
            if (notes.Texts == texts)
            {
                return notes;
            }
        }
    }
}
