using System.Collections.Concurrent;
using System.Diagnostics;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Messages;
using Xunit.Abstractions;

namespace Wevis.Runtime.Tests.Reliability;

/// <summary>
/// Nothing lost under load: many clients send numbered messages as fast as the server takes them, for a bounded
/// time; the room answers each. Every message sent reaches the room exactly once and in order per connection,
/// and every reply reaches its client in order, checked by sequence numbers.
/// </summary>
public class NothingLostTests(ITestOutputHelper output)
{
    /// <summary>Set to run the load for that many seconds instead of the CI's few (docs/reliability.md).</summary>
    public const string LongModeVariable = "WEVIS_LOAD_SECONDS";

    [Fact]
    public async Task EveryMessageReachesTheRoomOnceInOrderAndEveryReplyReturns()
    {
        const int clients = 100;

        // Unanswered messages each client may have in flight: full speed, within a bounded queue.
        const int window = 500;
        TimeSpan duration = TimeSpan.FromSeconds(int.TryParse(Environment.GetEnvironmentVariable(LongModeVariable), out int s) && s > 0 ? s : 3);
        var room = new SequenceCheckingRoom();
        await using TestServer server = await TestServer.StartAsync(o => o.MaxPendingLogins = clients, room);
        Client[] connected = await Task.WhenAll(Enumerable.Range(0, clients).Select(i => server.ConnectAsync($"user{i}", "pw")));

        var sending = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource(duration);
        (int Sent, int Replies)[] results = await Task.WhenAll(connected.Select(client => RunAsync(client, window, stop.Token))).Within(duration + TimeSpan.FromSeconds(60));
        TimeSpan elapsed = sending.Elapsed;

        long sent = results.Sum(r => (long)r.Sent);
        long replies = results.Sum(r => (long)r.Replies);
        output.WriteLine($"{clients} clients for {duration.TotalSeconds:0.#} s ({elapsed.TotalSeconds:0.##} s with the last replies): "
            + $"{sent:N0} messages sent, {room.Received:N0} reached the room, {replies:N0} replies received in order; "
            + $"{room.Duplicates} duplicated, {room.Missing} missing, {room.Reordered} out of order; {sent / elapsed.TotalSeconds:N0} messages/s");

        Assert.Equal(0, room.Duplicates);
        Assert.Equal(0, room.Missing);
        Assert.Equal(0, room.Reordered);
        Assert.Equal(sent, room.Received);
        Assert.Equal(sent, replies);
        for (int i = 0; i < clients; i++)
        {
            Assert.Equal(results[i].Sent, room.ReceivedFrom($"user{i}"));
        }

        Assert.True(sent >= clients * window, $"only {sent} messages were sent: the load never filled the windows");
        Assert.Equal(clients, room.Count);
        await Task.WhenAll(connected.Select(c => c.DisposeAsync().AsTask())).Within();
    }

    /// <summary>
    /// Sends numbered messages until <paramref name="stop"/>, never more than <paramref name="window"/> unanswered,
    /// while checking each reply's number; then waits for the last replies. Returns how many were sent and answered.
    /// </summary>
    private static async Task<(int Sent, int Replies)> RunAsync(Client client, int window, CancellationToken stop)
    {
        using var credit = new SemaphoreSlim(window, window);
        using var done = new CancellationTokenSource();
        int replies = 0;
        Task receiving = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    NumberedReply reply = await client.ReceiveAsync<NumberedReply>(done.Token).Within();
                    Assert.Equal(replies, reply.Sequence);
                    replies++;
                    credit.Release();
                }
            }
            catch (OperationCanceledException) when (done.IsCancellationRequested)
            {
            }
        });

        int sent = 0;
        try
        {
            while (true)
            {
                await credit.WaitAsync(stop).Within();
                client.Send(new Numbered(sent));
                sent++;
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }

        // Holding every credit again means every message sent has been answered.
        Task answered = TakeAllAsync(credit, window);
        await Task.WhenAny(answered, receiving).Within();
        await answered.Within(TimeSpan.FromSeconds(30));
        done.Cancel();
        await receiving.Within();
        return (sent, replies);
    }

    private static async Task TakeAllAsync(SemaphoreSlim credit, int count)
    {
        for (int i = 0; i < count; i++)
        {
            await credit.WaitAsync().Within();
        }
    }

    /// <summary>Checks, per connection, that numbered messages arrive exactly once and in order, and answers each.</summary>
    private sealed class SequenceCheckingRoom : TimeRoom
    {
        private readonly ConcurrentDictionary<string, int> _next = new();

        public long Received { get; private set; }

        public long Duplicates { get; private set; }

        public long Missing { get; private set; }

        public long Reordered { get; private set; }

        public int ReceivedFrom(string user) => _next.GetValueOrDefault(user);

        protected override void Handle(Connection connection, IMessage message)
        {
            if (message is not Numbered(int sequence))
            {
                base.Handle(connection, message);
                return;
            }

            int expected = _next.GetValueOrDefault(connection.User.Name);
            if (sequence < expected)
            {
                Duplicates++;
            }
            else if (sequence > expected)
            {
                Missing += sequence - expected;
                Reordered++;
            }

            _next[connection.User.Name] = sequence + 1;
            Received++;
            connection.Send(new NumberedReply(sequence));
        }
    }
}
