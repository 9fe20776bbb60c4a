using System.Net;
using System.Net.Sockets;
using Wevis.LoadTest.Servers;

namespace Wevis.LoadTest.Clients;

/// <summary>The floor's client: plain async socket calls, 16-byte frames.</summary>
internal sealed class RawBenchClient : IBenchClient
{
    private readonly Socket _socket;
    private readonly byte[] _request = new byte[RawFrames.FrameSize];
    private readonly byte[] _input = new byte[64 * 1024];
    private Task _listening = Task.CompletedTask;

    private RawBenchClient(Socket socket)
    {
        _socket = socket;
        RawFrames.WriteRequest(_request);
    }

    public static async Task<RawBenchClient> ConnectAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)).ConfigureAwait(false);
        return new RawBenchClient(socket);
    }

    public async ValueTask RoundTripAsync()
    {
        await _socket.SendAsync(_request, SocketFlags.None).ConfigureAwait(false);
        int received = 0;
        while (received < RawFrames.FrameSize)
        {
            int read = await _socket.ReceiveAsync(_input.AsMemory(received, RawFrames.FrameSize - received), SocketFlags.None).ConfigureAwait(false);
            if (read == 0)
            {
                throw new IOException("The raw server closed the connection.");
            }

            received += read;
        }
    }

    public async Task PipelineAsync(int window, ReplyCounter replies, CancellationToken stop)
    {
        // Requests go out as the replies come back: all of one read's worth in one write (writes coalesced).
        byte[] burst = new byte[window * RawFrames.FrameSize];
        for (int i = 0; i < window; i++)
        {
            RawFrames.WriteRequest(burst.AsSpan(i * RawFrames.FrameSize));
        }

        await _socket.SendAsync(burst, SocketFlags.None).ConfigureAwait(false);
        long outstanding = window;
        int filled = 0;
        while (outstanding > 0)
        {
            int read = await _socket.ReceiveAsync(_input.AsMemory(filled), SocketFlags.None).ConfigureAwait(false);
            if (read == 0)
            {
                throw new IOException("The raw server closed the connection.");
            }

            filled += read;
            int frames = RawFrames.CountWholeFrames(_input.AsSpan(0, filled));
            int consumed = frames * RawFrames.FrameSize;
            _input.AsSpan(consumed, filled - consumed).CopyTo(_input);
            filled -= consumed;
            replies.Add(frames);
            outstanding -= frames;
            if (frames > 0 && !stop.IsCancellationRequested)
            {
                await _socket.SendAsync(burst.AsMemory(0, consumed), SocketFlags.None).ConfigureAwait(false);
                outstanding += frames;
            }
        }
    }

    // A reply proves the server has accepted the connection and counts it among those it repeats shouts to.
    public Task JoinFanOutAsync() => RoundTripAsync().AsTask();

    public async ValueTask ShoutAsync(int seq)
    {
        byte[] shout = new byte[RawFrames.FrameSize];
        RawFrames.WriteShout(shout, seq);
        await _socket.SendAsync(shout.AsMemory(), SocketFlags.None).ConfigureAwait(false);
    }

    public void ListenForHeard(Action<int> heard) => _listening = ListenAsync(heard);

    private async Task ListenAsync(Action<int> heard)
    {
        int filled = 0;
        try
        {
            while (true)
            {
                int read = await _socket.ReceiveAsync(_input.AsMemory(filled), SocketFlags.None).ConfigureAwait(false);
                if (read == 0)
                {
                    return;
                }

                filled += read;
                int frames = RawFrames.CountWholeFrames(_input.AsSpan(0, filled));
                for (int i = 0; i < frames; i++)
                {
                    heard(RawFrames.ShoutNumber(_input.AsSpan(i * RawFrames.FrameSize)));
                }

                int consumed = frames * RawFrames.FrameSize;
                _input.AsSpan(consumed, filled - consumed).CopyTo(_input);
                filled -= consumed;
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Disposed: the listening ends.
        }
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Dispose();
        await _listening.ConfigureAwait(false);
    }
}
