using Example;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Messages;
using Xunit.Abstractions;

namespace Wevis.Runtime.Tests.Networking;

/// <summary>Many clients at once, and a long ordered stream from one: correctness under load (speed is measured in bench/).</summary>
public class LoadTests(ITestOutputHelper output)
{
    [Fact]
    public async Task TwoHundredConcurrentClientsEachDoRequestResponse()
    {
        const int clients = 200;
        const int roundTrips = 25;
        await using TestServer server = await TestServer.StartAsync(o => o.MaxPendingLogins = clients);

        Client[] connected = await Task.WhenAll(Enumerable.Range(0, clients).Select(i => server.ConnectAsync($"user{i}", "pw")));
        await Task.WhenAll(connected.Select(async (client, i) =>
        {
            for (int n = 0; n < roundTrips; n++)
            {
                client.Send(new WhoAmI());
                Assert.Equal($"user{i}", (await client.ReceiveAsync<YouAre>()).Name);
            }
        })).Within(TimeSpan.FromSeconds(60));

        Assert.Equal(clients, server.Room.Count);
        await Task.WhenAll(connected.Select(c => c.DisposeAsync().AsTask())).Within();
        await ExampleExchangeTests.WaitUntilAsync(() => server.Room.TotalLeft == clients);
        output.WriteLine($"{clients} clients x {roundTrips} round trips: all answered correctly, {server.Room.TotalLeft} left.");
    }

    [Fact]
    public async Task AHundredThousandMessagesArriveInOrderAndSoDoTheReplies()
    {
        const int count = 100_000;
        await using TestServer server = await TestServer.StartAsync();
        await using Client client = await server.ConnectAsync();

        Task<int> replies = Task.Run(async () =>
        {
            int expected = 0;
            while (expected < count)
            {
                NumberedReply reply = await client.ReceiveAsync<NumberedReply>().Within();
                Assert.Equal(expected, reply.Sequence);
                expected++;
            }

            return expected;
        });
        for (int i = 0; i < count; i++)
        {
            client.Send(new Numbered(i));
        }

        Assert.Equal(count, await replies.Within(TimeSpan.FromSeconds(60)));
        Assert.Equal(0, server.Room.OutOfOrder);
        Assert.Equal(count, server.Room.NumberedHandled);
        output.WriteLine($"{count} messages handled in order by the room; {count} replies received in order.");
    }
}
