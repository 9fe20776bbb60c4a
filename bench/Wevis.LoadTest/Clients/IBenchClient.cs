namespace Wevis.LoadTest.Clients;

/// <summary>One connection to one system's server, driven by the scenarios.</summary>
internal interface IBenchClient : IAsyncDisposable
{
    /// <summary>Sends one request and waits for its reply.</summary>
    ValueTask RoundTripAsync();

    /// <summary>
    /// Keeps up to <paramref name="window"/> requests in flight, sending a new one for each reply, and adds every
    /// reply to <paramref name="replies"/>, until <paramref name="stop"/> is cancelled. The connection is not
    /// reused afterwards.
    /// </summary>
    Task PipelineAsync(int window, ReplyCounter replies, CancellationToken stop);

    /// <summary>
    /// f) Enters the fan-out room and waits until the server counts the client in it: SignalR joins the hub group;
    /// raw and Wevis clients are in it once connected, which a round trip confirms.
    /// </summary>
    Task JoinFanOutAsync();

    /// <summary>f) and g) Sends a numbered message for the server to repeat to everyone in the sender's room.</summary>
    ValueTask ShoutAsync(int seq);

    /// <summary>
    /// f) and g) From now on hands the number of every repeated message received to <paramref name="heard"/>, on the
    /// client's receive path, until the client is disposed. The client is used for nothing else afterwards.
    /// </summary>
    void ListenForHeard(Action<int> heard);
}

/// <summary>A count written by one client's receiving code and read by the driver.</summary>
internal sealed class ReplyCounter
{
    private long _value;

    public long Value => Volatile.Read(ref _value);

    /// <summary>Adds replies; called by one receiving loop at a time.</summary>
    public void Add(long count) => Volatile.Write(ref _value, _value + count);
}
