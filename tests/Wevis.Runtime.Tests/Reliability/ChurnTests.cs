using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Messages;
using Xunit.Abstractions;

namespace Wevis.Runtime.Tests.Reliability;

/// <summary>
/// Churn, a CI-sized version of the soak (bench/Wevis.Soak): clients connecting, exchanging a burst of messages
/// and disconnecting, over and over, so that logins keep meeting a busy room. Every cycle must succeed: a user who
/// has just disconnected can log in again at once, no login is disturbed by the others, and the server logs no
/// lost connection or error.
/// </summary>
public class ChurnTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ClientsThatDisconnectAndReconnectAtOnceAreNeverRefusedOrDropped()
    {
        const int clients = 40;
        TimeSpan duration = TimeSpan.FromSeconds(3);
        await using TestServer server = await TestServer.StartAsync(o => o.MaxConnectionsPerUser = 1, new QuietRoom());
        var errors = new ConcurrentQueue<string>();
        long cycles = 0;
        long messages = 0;
        var clock = Stopwatch.StartNew();

        await Task.WhenAll(Enumerable.Range(0, clients).Select(i => Task.Run(async () =>
        {
            var random = new Random(i);
            while (clock.Elapsed < duration)
            {
                try
                {
                    await using Client client = server.CreateClient($"user{i}", "pw");
                    await client.ConnectAsync().Within();
                    int count = random.Next(1, 100);
                    for (int n = 0; n < count; n++)
                    {
                        client.Send(new Numbered(n));
                    }

                    for (int n = 0; n < count; n++)
                    {
                        Assert.Equal(n, (await client.ReceiveAsync<NumberedReply>().Within()).Sequence);
                    }

                    Interlocked.Add(ref messages, count);
                    Interlocked.Increment(ref cycles);
                }
                catch (Exception ex) when (ex is WevisException or TimeoutException)
                {
                    errors.Enqueue($"user{i}: {ex.GetType().Name}: {ex.Message}");
                }
            }
        }))).Within(duration + TimeSpan.FromSeconds(60));

        string[] serverErrors = [.. server.Log.Entries
            .Where(e => e.Message.Contains("connection was lost", StringComparison.Ordinal) || e.Level >= LogLevel.Warning)
            .Select(e => e.Message)];
        output.WriteLine($"{clients} clients for {duration.TotalSeconds} s: {cycles} connect-exchange-disconnect cycles, {messages} messages, "
            + $"{errors.Count} failed; the server logged {serverErrors.Length} lost connections, warnings or errors");
        Assert.True(serverErrors.Length == 0, string.Join("\n", serverErrors.Take(10)));
        Assert.True(errors.IsEmpty, string.Join("\n", errors.Take(10)));
        Assert.True(cycles >= clients, "the clients hardly cycled");
    }

    /// <summary>The test room without its enter hook's welcome, like many rooms: a login's only output is the acceptance.</summary>
    private sealed class QuietRoom : TimeRoom
    {
        protected override void OnUserEnter(Connection connection)
        {
        }
    }
}
