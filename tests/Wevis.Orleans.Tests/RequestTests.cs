using Wevis.Orleans.Tests.Messages;
using Wevis.Tests.Shared;

namespace Wevis.Orleans.Tests;

[Collection("cluster")]
public sealed class RequestTests
{
    [Fact]
    public async Task RequestsFromEveryGatewayToARoomOnTheClusterGetTheRoomsRepliesAndFailures()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync();
        Client[] clients = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => cluster.ConnectAsync($"asker{i}", cluster.Silos[i])));
        try
        {
            ClientRoom[] rooms = await Task.WhenAll(clients.Select(c => c.JoinOrCreateRoomAsync("chat"))).Within();
            string room = Assert.Single(rooms.Select(r => r.Id).Distinct());

            // Several in flight per client: each reply finds its own request.
            Answer[][] answers = await Task.WhenAll(clients.Select((c, i) =>
                Task.WhenAll(Enumerable.Range(0, 20).Select(n => c.RequestAsync(new Ask($"{i}:{n}")).AsTask())))).Within(TimeSpan.FromSeconds(20));

            for (int i = 0; i < clients.Length; i++)
            {
                Assert.Equal(Enumerable.Range(0, 20).Select(n => new Answer(room, $"{i}:{n}")), answers[i]);
            }

            RequestFailedException failed = await Assert.ThrowsAsync<RequestFailedException>(() => clients[1].RequestAsync(new Ask("fail")).AsTask().Within());
            Assert.Contains("asked to fail", failed.Message);

            // The connection goes on after a failure.
            Assert.Equal(new Answer(room, "after"), await clients[1].RequestAsync(new Ask("after")).AsTask().Within());
        }
        finally
        {
            await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask()));
        }
    }
}
