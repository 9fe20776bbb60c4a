using System.Net;
using System.Net.Sockets;
using Example;
using Microsoft.Extensions.Logging;
using Wevis.Protocol;
using Wevis.Runtime.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Wevis.Runtime.Tests.Reliability;

/// <summary>
/// A server that cannot accept (out of file descriptors) logs it, pauses for a time that doubles while the condition
/// lasts, keeps serving the connections it has, and accepts again once descriptors are free; meanwhile the
/// operating system queues at most <see cref="ServerOptions.ListenBacklog"/> connections for it. The descriptor
/// limit of this very process is lowered to make it happen (<see cref="FileDescriptorLimit"/>), so these run alone.
/// </summary>
[Collection(RunsAlone.Name)]
public class AcceptFailureTests(ITestOutputHelper output)
{
    [Fact]
    public async Task WhenAcceptFailsTheServerBacksOffServesWhatItHasAndAcceptsAgainWithTheBacklogQueued()
    {
        if (!FileDescriptorLimit.IsSupported)
        {
            output.WriteLine("Skipped: lowering the file descriptor limit needs Linux.");
            return;
        }

        const int backlog = 2;
        var clock = new TestClock();
        await using TestServer server = await TestServer.StartAsync(o => o.ListenBacklog = backlog, clock: clock);
        await using Client healthy = await server.ConnectAsync("user1", "pw");
        Socket[] waiting = [.. Enumerable.Range(0, backlog + 2).Select(_ => new Socket(SocketType.Stream, ProtocolType.Tcp))];
        var endPoint = new IPEndPoint(IPAddress.Loopback, server.Port);
        Task[] connecting;
        LogEntry[] failures;

        using (FileDescriptorLimit.Exhaust())
        {
            // The sockets exist already; connecting needs no new descriptor, accepting them does.
            connecting = [.. waiting.Select(s => s.ConnectAsync(endPoint))];
            // Each failure is logged, then the server pauses (a timer on its clock) before it tries again.
            LogEntry first = await server.Log.WaitForAsync(e => e.EventId.Id == 5);
            await clock.WaitForTimersAsync(TimeSpan.FromMilliseconds(10), what: "the first pause");
            clock.Advance(TimeSpan.FromMilliseconds(10));
            LogEntry second = await server.Log.WaitForAsync(e => e.EventId.Id == 5 && e != first);
            await clock.WaitForTimersAsync(TimeSpan.FromMilliseconds(20), what: "the second pause, twice the first");
            clock.Advance(TimeSpan.FromMilliseconds(20));
            LogEntry third = await server.Log.WaitForAsync(e => e.EventId.Id == 5 && e != first && e != second);
            await clock.WaitForTimersAsync(TimeSpan.FromMilliseconds(40), what: "the third pause");
            failures = [first, second, third];
            Assert.Equal(3, server.Log.Entries.Count(e => e.EventId.Id == 5));

            // The operating system completes as many connections as the backlog holds (Linux: one more), no more.
            await Task.WhenAll(connecting[..(backlog + 1)]).Within();
            await Task.WhenAny(connecting[backlog + 1], Task.Delay(300));
            Assert.False(connecting[backlog + 1].IsCompleted, $"more than {backlog + 1} connections were queued with ListenBacklog = {backlog}");

            // Connections already open are served meanwhile.
            healthy.Send(new WhoAmI());
            Assert.IsType<YouAre>(await healthy.ReceiveAsync().Within());
        }

        clock.Advance(TimeSpan.FromMilliseconds(40));
        await Task.WhenAll(connecting).Within();
        foreach (Socket socket in waiting)
        {
            using RawPeer peer = RawPeer.Wrap(socket);
            Assert.IsType<Welcome>(await peer.ReceiveAsync().Within());
        }

        Assert.All(failures, f => Assert.Equal(LogLevel.Error, f.Level));
        Assert.Equal(["10 ms", "20 ms", "40 ms"], failures.Select(f => f.Message[(f.Message.LastIndexOf(" in ", StringComparison.Ordinal) + 4)..]));
        output.WriteLine(failures[0].Message);
    }
}
