using System.Text.RegularExpressions;
using Example;
using Microsoft.Extensions.Logging;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Messages;

namespace Wevis.Runtime.Tests.Networking;

/// <summary>What the server's log lines say: well punctuated, with the right counts, and bounded in length.</summary>
public partial class ServerLogTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AClosedConnectionsLineEndsWithItsReasonWithoutDoublePunctuation()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using Client refused = server.CreateClient("michael", "wrong");
        await Assert.ThrowsAsync<LoginRejectedException>(() => refused.ConnectAsync());

        LogEntry closed = await server.Log.WaitForAsync(e => e.EventId.Id == 11, Bound);
        Assert.Matches(@"^Connection #\d+ \(not logged in\) closed, 0 still open: login rejected: Unknown user or wrong password\.$", closed.Message);
        Assert.DoesNotContain(server.Log.Entries, e => e.Message.Contains(".;", StringComparison.Ordinal) || e.Message.Contains("..", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AHundredConnectionsClosingAtOnceAreCountedDownOneByOneToZero()
    {
        const int clients = 100;
        await using TestServer server = await TestServer.StartAsync(o => o.MaxPendingLogins = clients);
        Client[] connected = await Task.WhenAll(Enumerable.Range(0, clients).Select(i => server.ConnectAsync($"user{i}", "pw")));

        await Task.WhenAll(connected.Select(c => Task.Run(() => c.DisposeAsync().AsTask())));
        // Each closing logs the count its removal left; the threads closing at once log in any order.
        await server.Log.WaitForCountAsync(e => e.EventId.Id == 11, clients, Bound);

        int[] counts = [.. server.Log.Entries.Where(e => e.EventId.Id == 11).Select(e => int.Parse(StillOpen().Match(e.Message).Groups[1].Value))];
        Assert.Equal(Enumerable.Range(0, clients), counts.Order());
        Assert.Equal(0, server.Server.ConnectionCount);
    }

    [Fact]
    public async Task AHandlerFailureLogsTheMessageCutToABoundedLengthWithItsFullLength()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using Client client = await server.ConnectAsync();
        string reason = new('r', 1_000_000);

        client.Send(new Explode(reason));
        LogEntry failed = await server.Log.WaitForAsync(e => e.Level == LogLevel.Error && e.EventId.Id == 30, Bound);

        Assert.InRange(failed.Message.Length, 100, 400);
        Assert.Matches(@"\(\d{7} characters in all\)$", failed.Message);
        client.Send(new WhoAmI());
        Assert.Equal("michael", (await client.ReceiveAsync<YouAre>().AsTask().WaitAsync(Bound)).Name);
    }

    [GeneratedRegex(@" (\d+) still open")]
    private static partial Regex StillOpen();
}
