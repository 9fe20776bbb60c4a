using System.Net;
using System.Net.Sockets;

namespace Wevis.LoadTest.Servers;

/// <summary>
/// The floor: a plain async-socket server. Each connection reads what has arrived, answers every whole request
/// frame with a 16-byte reply, and sends all of that read's replies in one write.
/// </summary>
internal sealed class RawServer : IBenchServer
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly CancellationTokenSource _stop = new();
    private Task _accepting = Task.CompletedTask;

    public int Port { get; private set; }

    public Task StartAsync(int port)
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
        _listener.Listen(1024);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _accepting = AcceptAsync();
        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Dispose();
        try
        {
            await _accepting.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            socket.NoDelay = true;
            _ = ServeAsync(socket);
        }
    }

    private static async Task ServeAsync(Socket socket)
    {
        byte[] input = new byte[64 * 1024];
        byte[] output = new byte[64 * 1024];
        int filled = 0;
        try
        {
            while (true)
            {
                int read = await socket.ReceiveAsync(input.AsMemory(filled), SocketFlags.None).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                filled += read;
                int frames = RawFrames.CountWholeFrames(input.AsSpan(0, filled));
                if (frames == 0)
                {
                    continue;
                }

                DateTime now = DateTime.UtcNow;
                for (int i = 0; i < frames; i++)
                {
                    RawFrames.WriteReply(output.AsSpan(i * RawFrames.FrameSize), now.Hour, now.Minute);
                }

                int consumed = frames * RawFrames.FrameSize;
                input.AsSpan(consumed, filled - consumed).CopyTo(input);
                filled -= consumed;
                await socket.SendAsync(output.AsMemory(0, consumed), SocketFlags.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or InvalidDataException)
        {
        }
        finally
        {
            socket.Dispose();
        }
    }
}
