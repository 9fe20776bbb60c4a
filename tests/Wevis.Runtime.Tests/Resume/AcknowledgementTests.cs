using Example;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Messages;

namespace Wevis.Runtime.Tests.Resume;

/// <summary>
/// How often a resumable session's receiver acknowledges: often enough that a sender's held frames stay under its
/// bound (MaxUnacknowledgedBytes) whatever the messages' size, so a stream of large ones does not end resumability.
/// </summary>
public class AcknowledgementTests
{
    [Fact]
    public async Task AStreamOfLargeMessagesIsAcknowledgedInTimeAndTheSessionStaysResumable()
    {
        var room = new ResumeRoom();
        await using TestServer server = await ResumeExchange.StartServerAsync(room);
        await using var proxy = new FaultProxy(server.Port);
        await using Client client = ResumeExchange.CreateClient(server, proxy.Port, "user1");
        await client.ConnectAsync().Within();
        Assert.IsType<ServerReady>(await client.ReceiveAsync().AsTask().Within());

        // 100 replies of 200 KB each (20 MB), at most 8 asked for and not yet received (1.6 MB, well under the
        // server's default bound of 4 MiB on what it holds for the client): a count-only rule (every 64 messages, or
        // the timer's 250 ms) lets the server hold 64 of them, 12.8 MB, and the session stops being resumable.
        const int Count = 100;
        const int Window = 8;
        int asked = 0;
        for (int received = 0; received < Count; received++)
        {
            while (asked < Count && asked - received < Window)
            {
                client.Send(new PleaseMayIHaveSomeFloats(50_000, 0));
                asked++;
            }

            Assert.Equal(50_000, Assert.IsType<SomeFloats>(await client.ReceiveAsync().AsTask().Within()).Singles.Length);
        }

        // Still resumable: the connection breaks, and the exchange goes on, nothing lost or repeated.
        int replies = await ResumeExchange.RunAsync(client, 200, 10, afterReply: n =>
        {
            if (n == 50)
            {
                proxy.BreakAll(FaultKind.Reset);
            }
        }).Within(TimeSpan.FromSeconds(30));
        Assert.Equal(200, replies);
        Assert.Equal(1, client.ResumeCount);
        Assert.Equal(0, room.Duplicates);
        Assert.Equal(0, room.Gaps);
    }

    [Fact]
    public async Task AStreamOfLargeMessagesFromTheClientIsAcknowledgedInTimeToo()
    {
        var room = new ResumeRoom();
        await using TestServer server = await ResumeExchange.StartServerAsync(room);
        await using var proxy = new FaultProxy(server.Port);
        await using Client client = ResumeExchange.CreateClient(server, proxy.Port, "user2");
        await client.ConnectAsync().Within();

        // 96 messages of 200 KB (19 MB) to the server, eight at a time, each eight followed by a round trip: the client
        // holds at most about eight unacknowledged (1.6 MB, under its default bound of 4 MiB) if the server
        // acknowledges by bytes too; by count alone it would hold 64 (12.8 MB) and stop being resumable.
        byte[] blob = new byte[200_000];
        int replies = 0;
        for (int round = 0; round < 12; round++)
        {
            for (int i = 0; i < 8; i++)
            {
                client.Send(new AllTypes(i, 0, 0, false, string.Empty, blob, [], []));
            }

            client.Send(new Numbered(round));
            while (await client.ReceiveAsync().AsTask().Within() is not NumberedReply)
            {
            }

            replies++;
        }

        Assert.Equal(12, replies);
        var resumed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Resumed += (_, _) => resumed.TrySetResult();
        proxy.BreakAll(FaultKind.Reset);
        client.Send(new Numbered(12));
        while (await client.ReceiveAsync().AsTask().Within(TimeSpan.FromSeconds(20)) is not NumberedReply(12))
        {
        }

        await resumed.Task.Within();
        Assert.Equal(1, client.ResumeCount);
        Assert.Equal(13, room.HandledFrom("user2"));
        Assert.Equal(0, room.Duplicates);
    }

    [Fact]
    public async Task TimeSpentDisconnectedDoesNotCountTowardsTheUnacknowledgedAge()
    {
        // The age bound is on waiting for a connected peer: a drop longer than it, then a resume, must not end
        // resumability at the first look after. Both sides' clocks are fake, so nothing acknowledges unless moved.
        var room = new ResumeRoom();
        var serverClock = new TestClock();
        var clock = new TestClock();
        await using TestServer server = await TestServer.StartAsync(o => o.ResumeGracePeriod = TimeSpan.FromHours(1), room, clock: serverClock);
        await using var proxy = new FaultProxy(server.Port);
        Client client = ResumeExchange.CreateClient(server, proxy.Port, "user1", configure: o =>
        {
            o.TimeProvider = clock;
            o.MaxUnacknowledgedAge = TimeSpan.FromSeconds(60);
            o.ReconnectTimeout = o.ConnectTimeout = TimeSpan.FromHours(1);
        });
        var dropped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var resumed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Dropped += (_, _) => dropped.TrySetResult();
        client.Resumed += (_, _) => resumed.TrySetResult();
        await client.ConnectAsync().Within();

        // A message the server never gets, so never acknowledges; the client's look starts its age.
        proxy.BreakAll(FaultKind.BlackHole);
        client.Send(new Numbered(0));
        clock.Advance(TimeSpan.FromSeconds(1));
        proxy.BreakAll(FaultKind.Reset);
        await dropped.Task.Within();

        // Away for two minutes, twice the bound; then back, the message replayed and again waiting for the server.
        clock.Advance(TimeSpan.FromMinutes(2));
        await clock.RunUntilAsync(resumed.Task);
        clock.Advance(TimeSpan.FromSeconds(1));

        Assert.Null(client.ReplayBrokenReason);
        await clock.RunUntilAsync(client.DisposeAsync().AsTask());
    }
}
