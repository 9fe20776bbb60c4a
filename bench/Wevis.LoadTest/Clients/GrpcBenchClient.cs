using Grpc.Core;
using Grpc.Net.Client;
using Wevis.LoadTest.Servers;

namespace Wevis.LoadTest.Clients;

/// <summary>A gRPC channel of its own (one HTTP/2 connection) with one bidirectional stream.</summary>
internal sealed class GrpcBenchClient : IBenchClient
{
    private readonly GrpcChannel _channel;
    private readonly AsyncDuplexStreamingCall<TimeRequest, TimeReply> _call;

    private GrpcBenchClient(GrpcChannel channel)
    {
        _channel = channel;
        _call = channel.CreateCallInvoker().AsyncDuplexStreamingCall(GrpcTime.Talk, null, new CallOptions());
    }

    public static async Task<GrpcBenchClient> ConnectAsync(int port)
    {
        GrpcChannel channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}", new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan },
        });
        var client = new GrpcBenchClient(channel);
        await client.RoundTripAsync().ConfigureAwait(false);
        return client;
    }

    public async ValueTask RoundTripAsync()
    {
        await _call.RequestStream.WriteAsync(TimeRequest.Instance).ConfigureAwait(false);
        if (!await _call.ResponseStream.MoveNext(CancellationToken.None).ConfigureAwait(false))
        {
            throw new IOException("The gRPC stream ended.");
        }
    }

    public async Task PipelineAsync(int window, ReplyCounter replies, CancellationToken stop)
    {
        var credits = new SemaphoreSlim(window);
        Task reading = Task.Run(async () =>
        {
            while (await _call.ResponseStream.MoveNext(CancellationToken.None).ConfigureAwait(false))
            {
                replies.Add(1);
                credits.Release();
            }
        });
        try
        {
            while (true)
            {
                await credits.WaitAsync(stop).ConfigureAwait(false);
                await _call.RequestStream.WriteAsync(TimeRequest.Instance).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }

        // The reader ends when the call is disposed; its exception then is expected.
        _ = reading.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
    }

    // gRPC is not in the fan-out scenarios (one stream per client has no groups to repeat to).
    public Task JoinFanOutAsync() => throw new NotSupportedException("gRPC is not in the fan-out scenarios.");

    public ValueTask ShoutAsync(int seq) => throw new NotSupportedException("gRPC is not in the fan-out scenarios.");

    public void ListenForHeard(Action<int> heard) => throw new NotSupportedException("gRPC is not in the fan-out scenarios.");

    public ValueTask DisposeAsync()
    {
        _call.Dispose();
        _channel.Dispose();
        return ValueTask.CompletedTask;
    }
}
