using BenchmarkDotNet.Attributes;
using Wevis.Benchmarks.RoundTrip;

namespace Wevis.Benchmarks;

/// <summary>
/// One client's round trip to a server in this process over 127.0.0.1, two ways: <c>Send</c> then
/// <c>ReceiveAsync</c> (the baseline), and <c>RequestAsync</c>, whose reply is matched to its request by id. The room
/// does the same work for both, and the messages carry the same arguments, so the ratio is the request's own cost:
/// the envelope, the table of requests in flight and the timeout. The target (issue 14) is at most 1.1.
/// </summary>
[MemoryDiagnoser]
public class RoundTripBenchmarks
{
    private Server? _server;
    private Client? _client;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _server = new Server(
            (username, password, salt, version) => new User(username),
            new TimeRoom(),
            new ServerOptions { Host = "127.0.0.1", Port = 0 });
        await _server.StartAsync();
        _client = new Client("bench", "pw", "1.0", "127.0.0.1", _server.Port);
        await _client.ConnectAsync();
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _client!.DisposeAsync();
        await _server!.DisposeAsync();
    }

    [Benchmark(Baseline = true)]
    public async Task<int> SendThenReceive()
    {
        _client!.Send(new WhatTimeIsItNow());
        ItIsNow reply = await _client.ReceiveAsync<ItIsNow>();
        return reply.Minutes;
    }

    [Benchmark]
    public async Task<int> Request()
    {
        TheTime reply = await _client!.RequestAsync(new AskTheTime());
        return reply.Minutes;
    }

    /// <summary>Answers both ways with the same work: the time, as hours and minutes.</summary>
    private sealed class TimeRoom : Room
    {
        protected override void Handle(Connection connection, IMessage message)
        {
            switch (message)
            {
                case WhatTimeIsItNow:
                    DateTime now = DateTime.Now;
                    connection.Send(new ItIsNow(now.Hour, now.Minute));
                    break;
                case Request<AskTheTime> ask:
                    DateTime time = DateTime.Now;
                    ask.Reply(new TheTime(time.Hour, time.Minute));
                    break;
            }
        }
    }
}
