using Wevis.Orleans.Tests.Messages;
using Wevis.Tests.Shared;

namespace Wevis.Orleans.Tests;

[Collection("cluster")]
public sealed class ClusterRoomTests
{
    [Fact]
    public async Task ClientsOnDifferentGatewaysInOneRoomSeeEachOthersBroadcastsInOneOrder()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync(chatCapacity: 6);
        var clients = new List<Client>();
        for (int i = 0; i < 6; i++)
        {
            clients.Add(await cluster.ConnectAsync($"user{i}", cluster.Silos[i % 3]));
        }

        try
        {
            ClientRoom[] rooms = await Task.WhenAll(clients.Select(c => c.JoinOrCreateRoomAsync("chat"))).Within();
            Assert.Single(rooms.Select(r => r.Id).Distinct());

            const int PerClient = 100;
            await Task.WhenAll(clients.Select((c, i) => Task.Run(() =>
            {
                for (int n = 0; n < PerClient; n++)
                {
                    c.Send(new Say($"{i}:{n}"));
                }
            })));

            var seen = new List<List<string>>();
            foreach (Client client in clients)
            {
                var lines = new List<string>();
                while (lines.Count < clients.Count * PerClient)
                {
                    Said said = await client.WaitForAsync<Said>().Within(TimeSpan.FromSeconds(20));
                    if (said.From != "room")
                    {
                        Assert.Equal(lines.Count, said.Seq);
                        lines.Add(said.Text);
                    }
                }

                seen.Add(lines);
            }

            foreach (List<string> lines in seen.Skip(1))
            {
                Assert.Equal(seen[0], lines);
            }

            // Each sender's messages in the order it sent them.
            for (int i = 0; i < clients.Count; i++)
            {
                Assert.Equal(Enumerable.Range(0, PerClient).Select(n => $"{i}:{n}"), seen[0].Where(l => l.StartsWith($"{i}:", StringComparison.Ordinal)));
            }
        }
        finally
        {
            await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask()));
        }
    }

    [Fact]
    public async Task JoinOrCreateRacesAcrossGatewaysFillRoomsExactlyToCapacity()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync();
        Client[] clients = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => cluster.ConnectAsync($"racer{i}", cluster.Silos[i % 3])));
        try
        {
            // Half ask as clients, half are moved by the lobby's code; all at once.
            Task<ClientRoom>[] asks = [.. clients.Select((c, i) => i % 2 == 0 ? c.JoinOrCreateRoomAsync("table") : MoveByLobbyAsync(c))];
            ClientRoom[] rooms = await Task.WhenAll(asks).Within(TimeSpan.FromSeconds(30));
            var groups = rooms.GroupBy(r => r.Id).ToList();
            Assert.Equal(10, groups.Count);
            Assert.All(groups, g => Assert.Equal(4, g.Count()));

            // The rooms are spread over the silos, not all made beside the room type's grain.
            Assert.True(groups.Select(g => cluster.HostOf(g.Key)?.SiloAddress).Distinct().Count() >= 2, "every room is on one silo");

            // Each room agrees: four users in it.
            foreach (Client client in clients)
            {
                client.Send(new WhereAmI());
                YouAreIn where = await client.WaitForAsync<YouAreIn>().Within();
                Assert.Equal(client.Room!.Id, where.Room);
                Assert.Equal(4, where.Count);
            }
        }
        finally
        {
            await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask()));
        }
    }

    [Fact]
    public async Task AMoveRoomCodeMakesHandsTheMessagesSentAfterItToTheNextRoom()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync();
        await using Client alice = await cluster.ConnectAsync("alice", cluster.Silos[1]);
        for (int round = 0; round < 5; round++)
        {
            ClientRoom chat = await alice.JoinOrCreateRoomAsync("chat").Within();
            alice.Send(new WhereAmI());
            Assert.Equal(chat.Id, (await alice.WaitForAsync<YouAreIn>().Within()).Room);

            // The chat room's code moves her to the lobby; what she sent right after it is the lobby's to answer.
            alice.Send(new Say("lobby"));
            alice.Send(new WhereAmI());
            Assert.Equal("lobby", (await alice.WaitForAsync<YouAreIn>().Within()).Room);
        }

        // A client's own leave works too.
        await alice.JoinOrCreateRoomAsync("chat").Within();
        Assert.Equal("lobby", (await alice.LeaveRoomAsync().Within()).Id);
    }

    [Fact]
    public async Task AnEnterHookThatSendsTheUserOnAnswersTheirJoinAndTheyArriveInTheNextRoom()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync(silos: 2);
        string hop = await cluster.CreateRoomAsync("hop");
        await using Client client = await cluster.ConnectAsync("anna", cluster.Silos[0]);
        var inLobbyAgain = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int changes = 0;
        client.RoomChanged += (_, e) =>
        {
            if (Interlocked.Increment(ref changes) > 1 && e.Room.Id == "lobby")
            {
                inLobbyAgain.TrySetResult();
            }
        };

        Task disposed = GrainCalls.Listed(hop, listing => listing.IsDisposed);

        // The join is answered (the user did enter), the hook's greeting arrives, then the move to the lobby.
        Assert.Equal(hop, (await client.JoinRoomAsync(hop).Within()).Id);
        Assert.Equal(new Said(hop, "passing through", -1), await client.WaitForAsync<Said>().Within());
        await inLobbyAgain.Task.Within();

        // Its only visitor gone, the room is disposed (it was used), as on one server: it tells the directory so.
        await disposed.Within(what: $"{hop}'s report of its disposal to the directory");
        Assert.Null(await cluster.Cluster.Client.GetGrain<IRoomTypeGrain>("hop").Find(hop).Within());
    }

    private static async Task<ClientRoom> MoveByLobbyAsync(Client client)
    {
        var moved = new TaskCompletionSource<ClientRoom>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.RoomChanged += (_, e) =>
        {
            if (e.Room.Type == "table")
            {
                moved.TrySetResult(e.Room);
            }
        };
        client.Send(new Say("join:table"));
        return await moved.Task;
    }
}
