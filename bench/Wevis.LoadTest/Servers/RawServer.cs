using System.Net;
using System.Net.Sockets;

namespace Wevis.LoadTest.Servers;

/// <summary>
/// The floor: a plain async-socket server. Each connection reads what has arrived, answers every whole request
/// frame with a 16-byte reply, and sends all of that read's replies in one write. A read's shouts (scenarios f and g)
/// are written, unchanged and together, to every connection of the sender's group in turn: one write per connection
/// per read. Without <paramref name="groupSize"/> all connections are one group (f); with it, connections are grouped
/// in the order they were accepted, that many to a group (g's rooms of four, without any joining).
/// </summary>
internal sealed class RawServer(int groupSize = 0) : IBenchServer
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly CancellationTokenSource _stop = new();
    private RawGroup _group = new();
    private int _accepted;
    private Task _accepting = Task.CompletedTask;

    public int Port { get; private set; }

    public Task StartAsync(int port)
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
        _listener.Listen(4096);
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
            if (groupSize > 0 && _accepted > 0 && _accepted % groupSize == 0)
            {
                _group = new RawGroup();
            }

            _accepted++;

            RawGroup group = _group;
            group.Track(socket, add: true);
            _ = ServeAsync(socket, group);
        }
    }

    private async Task ServeAsync(Socket socket, RawGroup group)
    {
        byte[] input = new byte[64 * 1024];
        byte[] output = new byte[64 * 1024];
        byte[] shouts = new byte[64 * 1024];
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
                int replies = 0;
                int shouted = 0;
                for (int i = 0; i < frames; i++)
                {
                    ReadOnlySpan<byte> frame = input.AsSpan(i * RawFrames.FrameSize, RawFrames.FrameSize);
                    if (RawFrames.IsShout(frame))
                    {
                        frame.CopyTo(shouts.AsSpan(shouted++ * RawFrames.FrameSize));
                    }
                    else
                    {
                        RawFrames.WriteReply(output.AsSpan(replies++ * RawFrames.FrameSize), now.Hour, now.Minute);
                    }
                }

                int consumed = frames * RawFrames.FrameSize;
                input.AsSpan(consumed, filled - consumed).CopyTo(input);
                filled -= consumed;
                if (replies > 0)
                {
                    await socket.SendAsync(output.AsMemory(0, replies * RawFrames.FrameSize), SocketFlags.None).ConfigureAwait(false);
                }

                if (shouted > 0)
                {
                    await FanOutAsync(group, shouts.AsMemory(0, shouted * RawFrames.FrameSize)).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or InvalidDataException)
        {
        }
        finally
        {
            group.Track(socket, add: false);
            socket.Dispose();
        }
    }

    /// <summary>Writes the same bytes to every connection of a group, one after the other (the least a server can do).</summary>
    private static async ValueTask FanOutAsync(RawGroup group, ReadOnlyMemory<byte> frames)
    {
        foreach (Socket recipient in group.Members)
        {
            try
            {
                await recipient.SendAsync(frames, SocketFlags.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // That recipient is gone; the others still get theirs.
            }
        }
    }

    /// <summary>The connections a shout is repeated to; the fan-out reads an immutable snapshot, as a room's members are read.</summary>
    private sealed class RawGroup
    {
        private readonly Lock _lock = new();
        private readonly HashSet<Socket> _connections = [];
        private Socket[] _snapshot = [];

        public Socket[] Members => Volatile.Read(ref _snapshot);

        public void Track(Socket socket, bool add)
        {
            lock (_lock)
            {
                if (add ? _connections.Add(socket) : _connections.Remove(socket))
                {
                    Volatile.Write(ref _snapshot, [.. _connections]);
                }
            }
        }
    }
}
