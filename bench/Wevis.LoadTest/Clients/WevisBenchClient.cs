using Example;
using Wevis.LoadTest.Messages;
using Wevis.LoadTest.Servers;

namespace Wevis.LoadTest.Clients;

/// <summary>A Wevis <see cref="Client"/> asking <c>WhatTimeIsIt</c> and receiving <c>ItIs</c>.</summary>
internal sealed class WevisBenchClient : IBenchClient
{
    private static readonly WhatTimeIsIt Request = new();
    private readonly Client _client;
    private Task _listening = Task.CompletedTask;

    private WevisBenchClient(Client client) => _client = client;

    public static async Task<WevisBenchClient> ConnectAsync(int port, string name, ClientOptions? options = null)
    {
        var client = new Client(name, WevisBenchServer.Password, WevisBenchServer.Version, "127.0.0.1", port, options);
        await client.ConnectAsync().ConfigureAwait(false);
        return new WevisBenchClient(client);
    }

    /// <summary>The client underneath (the resume scenario watches its events).</summary>
    public Client Client => _client;

    public async ValueTask RoundTripAsync()
    {
        _client.Send(Request);
        if (await _client.ReceiveAsync().ConfigureAwait(false) is not ItIs)
        {
            throw new InvalidDataException("Expected ItIs.");
        }
    }

    public async Task PipelineAsync(int window, ReplyCounter replies, CancellationToken stop)
    {
        for (int i = 0; i < window; i++)
        {
            _client.Send(Request);
        }

        // Each reply's continuation runs on the client's receive loop, so the requests sent here for one batch
        // of replies go out together when the batch is done (the client's documented batching).
        long outstanding = window;
        while (outstanding > 0)
        {
            if (await _client.ReceiveAsync().ConfigureAwait(false) is not ItIs)
            {
                throw new InvalidDataException("Expected ItIs.");
            }

            replies.Add(1);
            outstanding--;
            if (!stop.IsCancellationRequested)
            {
                _client.Send(Request);
                outstanding++;
            }
        }
    }

    // A reply proves the user is in the entry room, the room shouts are repeated in.
    public Task JoinFanOutAsync() => RoundTripAsync().AsTask();

    /// <summary>g) Joins a room of four, or creates one (the server's join-or-create: racing clients fill rooms in turn).</summary>
    public async Task JoinRoomOfFourAsync() => RoomId = (await _client.JoinOrCreateRoomAsync(WevisBenchServer.QuadRoomType).ConfigureAwait(false)).Id;

    /// <summary>g) The room joined last.</summary>
    public string? RoomId { get; private set; }

    /// <summary>g) Back to the entry room.</summary>
    public async Task LeaveRoomAsync() => RoomId = (await _client.LeaveRoomAsync().ConfigureAwait(false)).Id;

    public ValueTask ShoutAsync(int seq)
    {
        _client.Send(new Shout(seq));
        return ValueTask.CompletedTask;
    }

    public void ListenForHeard(Action<int> heard) => _listening = ListenAsync(heard);

    private async Task ListenAsync(Action<int> heard)
    {
        try
        {
            while (true)
            {
                if (await _client.ReceiveAsync().ConfigureAwait(false) is Heard message)
                {
                    heard(message.Seq);
                }
            }
        }
        catch (Exception ex) when (ex is ConnectionClosedException or ObjectDisposedException or OperationCanceledException)
        {
            // Disposed: the listening ends.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync().ConfigureAwait(false);
        await _listening.ConfigureAwait(false);
    }
}
