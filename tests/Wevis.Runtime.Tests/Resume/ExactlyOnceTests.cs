using System.Diagnostics;
using Wevis.Runtime.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Wevis.Runtime.Tests.Resume;

/// <summary>
/// The exactly-once test (issue 15): many resumable clients exchange numbered messages both ways with their room
/// through a fault proxy that breaks every connection at a random point, on average every
/// <see cref="MessagesPerBreak"/> messages: resets, plain closes and black holes (half-open), mid-frame and mid-login
/// as the byte count falls. Every message is handled exactly once and in order on both sides, no room sees a leave
/// of a session that ran, and the run ends by itself within a bound.
/// </summary>
// Alone, after the parallel tests: it keeps two cores busy for half a minute, which would make others' timings flaky.
[Collection(RunsAlone.Name)]
public class ExactlyOnceTests(ITestOutputHelper output)
{
    /// <summary>Set to run another number of messages per client than the 10,000 (about 40 s on 2 cores).</summary>
    public const string MessagesVariable = "WEVIS_RESUME_MESSAGES";

    private const int Clients = 50;
    private const int MessagesPerBreak = 200;

    // Both directions of one Numbered and its reply: a frame of 4 + 1 + 5 + up to 3 bytes each way.
    private const int BytesPerMessageOneWay = 12;

    [Fact]
    public async Task EveryMessageIsHandledOnceInOrderBothWaysThroughRandomBreaks()
    {
        int messages = int.TryParse(Environment.GetEnvironmentVariable(MessagesVariable), out int m) && m > 0 ? m : 10_000;
        var room = new ResumeRoom();
        await using TestServer server = await ResumeExchange.StartServerAsync(room);

        // A break in one direction after a uniform 1..2×mean bytes; black holes one time in five (each costs a timeout).
        await using var proxy = new FaultProxy(
            server.Port,
            FaultProxy.RandomPlan(seed: 15, MessagesPerBreak * BytesPerMessageOneWay, FaultKind.Reset, FaultKind.Close, FaultKind.Reset, FaultKind.Close, FaultKind.BlackHole))
        {
            BlackHoleLifetime = TimeSpan.FromSeconds(5),
        };

        int gaveUp = 0;
        var watch = Stopwatch.StartNew();

        // A first connect cut mid-login fails (the session does not exist yet): the test connects again with a new
        // client, as an app would.
        Client[] clients = await Task.WhenAll(Enumerable.Range(0, Clients).Select(ConnectPatientlyAsync)).Within(TimeSpan.FromSeconds(60));
        int[] replies = await Task.WhenAll(clients.Select(c => ResumeExchange.RunAsync(c, messages, window: 50))).Within(TimeSpan.FromSeconds(120));
        watch.Stop();

        int resumes = clients.Sum(c => c.ResumeCount);
        output.WriteLine($"{Clients} clients × {messages} messages each way in {watch.Elapsed.TotalSeconds:0.0} s: {proxy.Connections} connections, "
            + $"{proxy.Faults} broken ({proxy.BlackHoles} black-holed), {resumes} resumes; room: {room.DroppedCount} drops, {room.ResumedCount} resumes, "
            + $"{room.Duplicates} duplicates, {room.Gaps} gaps, {room.Leaves} leaves");

        Assert.All(replies, r => Assert.Equal(messages, r));
        for (int i = 0; i < Clients; i++)
        {
            Assert.Equal(messages, room.HandledFrom($"user{i}"));
        }

        Assert.Equal(0, room.Duplicates);
        Assert.Equal(0, room.Gaps);
        // The only leaves are of sessions whose first login was cut before the client heard it was accepted (the
        // client cannot resume what it never knew it had; the test connected again with a new client, and the
        // server's grace period ended the abandoned session).
        int abandoned = Enumerable.Range(0, Clients).Sum(i => room.EnteredCount($"user{i}") - 1);
        Assert.Equal(abandoned, room.Leaves);
        Assert.Equal(0, Volatile.Read(ref gaveUp));
        Assert.True(resumes >= Clients, $"only {resumes} resumes: the proxy did not break enough connections");
        foreach (Client client in clients)
        {
            await client.DisposeAsync().AsTask().Within();
        }

        async Task<Client> ConnectPatientlyAsync(int index)
        {
            // Until the server has noticed an abandoned first session's connection is gone (a black hole takes a
            // ping timeout), its user's one place is taken: a fresh login is refused meanwhile.
            var patience = Stopwatch.StartNew();
            for (int attempt = 1; ; attempt++)
            {
                Client client = ResumeExchange.CreateClient(server, proxy.Port, $"user{index}", configure: o =>
                {
                    o.ReconnectTimeout = TimeSpan.FromSeconds(60);
                    o.ConnectTimeout = TimeSpan.FromSeconds(3);
                });
                client.GaveUp += (_, e) =>
                {
                    Interlocked.Increment(ref gaveUp);
                    output.WriteLine($"user{index} gave up: {e.Reason}");
                };
                try
                {
                    await client.ConnectAsync();
                    return client;
                }
                catch (WevisException) when (patience.Elapsed < TimeSpan.FromSeconds(30))
                {
                    await client.DisposeAsync();
                    await Task.Delay(20 * Math.Min(attempt, 10));
                }
            }
        }
    }
}
