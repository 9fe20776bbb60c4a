using System.Threading.Tasks.Sources;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Wevis.LoadTest.Servers;

namespace Wevis.LoadTest.Clients;

/// <summary>A SignalR hub connection (WebSockets, MessagePack) invoking <c>WhatTimeIsIt</c> and handling <c>ItIs</c>.</summary>
internal sealed class SignalRBenchClient : IBenchClient, IValueTaskSource
{
    private readonly HubConnection _connection;
    private ManualResetValueTaskSourceCore<bool> _reply;
    private ReplyCounter? _pipelineReplies;
    private SemaphoreSlim? _credits;

    private SignalRBenchClient(HubConnection connection)
    {
        _connection = connection;
        _connection.On<int, int>("ItIs", OnItIs);
    }

    public static async Task<SignalRBenchClient> ConnectAsync(int port)
    {
        HubConnection connection = new HubConnectionBuilder()
            .WithUrl(new Uri($"http://127.0.0.1:{port}{SignalRBenchServer.Path}"), HttpTransportType.WebSockets, o => o.SkipNegotiation = true)
            .AddMessagePackProtocol()
            .Build();
        var client = new SignalRBenchClient(connection);
        await connection.StartAsync().ConfigureAwait(false);
        return client;
    }

    public async ValueTask RoundTripAsync()
    {
        _reply.Reset();
        await _connection.SendAsync("WhatTimeIsIt").ConfigureAwait(false);
        await new ValueTask(this, _reply.Version).ConfigureAwait(false);
    }

    public async Task PipelineAsync(int window, ReplyCounter replies, CancellationToken stop)
    {
        _credits = new SemaphoreSlim(window);
        _pipelineReplies = replies;
        try
        {
            while (true)
            {
                await _credits.WaitAsync(stop).ConfigureAwait(false);
                await _connection.SendAsync("WhatTimeIsIt", stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    public Task JoinFanOutAsync() => _connection.InvokeAsync("Join");

    public ValueTask ShoutAsync(int seq) => new(_connection.SendAsync("Shout", seq));

    public void ListenForHeard(Action<int> heard) => _connection.On<int>("Heard", heard);

    public async ValueTask DisposeAsync() => await _connection.DisposeAsync().ConfigureAwait(false);

    void IValueTaskSource.GetResult(short token) => _reply.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _reply.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _reply.OnCompleted(continuation, state, token, flags);

    private void OnItIs(int hours, int minutes)
    {
        if (_pipelineReplies is { } replies)
        {
            replies.Add(1);
            _credits!.Release();
        }
        else
        {
            _reply.SetResult(true);
        }
    }
}
