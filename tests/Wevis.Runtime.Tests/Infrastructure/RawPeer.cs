using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using Wevis.Protocol;
using Wevis.Serialization;

namespace Wevis.Runtime.Tests.Infrastructure;

/// <summary>
/// A hand-driven peer speaking raw frames over a socket, to do what a well-behaved client never would: send
/// before logging in, stay silent, ignore pings, send garbage.
/// </summary>
internal sealed class RawPeer : IDisposable
{
    private static readonly MessageRegistry s_wire = MessageRegistry.Combine(Wevis.WevisRegistry.Messages, WevisRegistry.Messages);
    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[1 << 20];
    private int _buffered;

    private RawPeer(Socket socket) => _socket = socket;

    /// <summary>Connects to 127.0.0.1:<paramref name="port"/>, from <paramref name="from"/> (another loopback address, say) if given.</summary>
    public static RawPeer Connect(int port, System.Net.IPAddress? from = null)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (from is not null)
        {
            socket.Bind(new System.Net.IPEndPoint(from, 0));
        }

        socket.Connect("127.0.0.1", port);
        return new RawPeer(socket);
    }

    public Socket Socket => _socket;

    public Task SendAsync(IMessage message) => SendRawAsync(Frame(message));

    public async Task SendRawAsync(byte[] bytes) => await _socket.SendAsync(bytes, SocketFlags.None);

    public static byte[] Frame(IMessage message) => Frame(MessageSerializer.ToBytes(message));

    public static byte[] Frame(byte[] body)
    {
        byte[] frame = new byte[4 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, body.Length);
        body.CopyTo(frame, 4);
        return frame;
    }

    /// <summary>Reads the next message, or null when the server closes the connection.</summary>
    public async Task<IMessage?> ReceiveAsync(TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            if (_buffered >= 4)
            {
                int length = BinaryPrimitives.ReadInt32BigEndian(_buffer);
                if (_buffered >= 4 + length)
                {
                    IMessage message = MessageSerializer.Read(new ReadOnlySequence<byte>(_buffer, 4, length), s_wire);
                    Buffer.BlockCopy(_buffer, 4 + length, _buffer, 0, _buffered - 4 - length);
                    _buffered -= 4 + length;
                    return message;
                }
            }

            int read;
            try
            {
                read = await _socket.ReceiveAsync(_buffer.AsMemory(_buffered), SocketFlags.None, cancel.Token);
            }
            catch (SocketException)
            {
                return null;
            }

            if (read == 0)
            {
                // The server has closed its side: close ours too, as any client would, so the server need not
                // wait out its linger for this peer.
                ShutdownQuietly();
                return null;
            }

            _buffered += read;
        }
    }

    /// <summary>Reads messages until the server closes the connection; returns them all.</summary>
    public async Task<List<IMessage>> ReceiveUntilClosedAsync(TimeSpan? timeout = null)
    {
        var messages = new List<IMessage>();
        while (await ReceiveAsync(timeout) is { } message)
        {
            messages.Add(message);
        }

        return messages;
    }

    /// <summary>
    /// Does the login handshake by hand; returns the server's answer (accepted or rejected). After an acceptance it
    /// also takes the notice that the user is in the entry room, which comes before anything the room sends.
    /// </summary>
    public async Task<IMessage?> LoginAsync(string username = "michael", string password = "mypassword", string? fingerprint = null)
    {
        var welcome = (Welcome)(await ReceiveAsync())!;
        await SendAsync(new Login(username, Credentials.Encrypt(password, welcome.Salt), TestServer.Version, fingerprint ?? WevisRegistry.Messages.Fingerprint));
        IMessage? answer = await ReceiveAsync();
        if (answer is LoginAccepted)
        {
            Assert.Equal(new RoomChanged(0, "lobby", "lobby", string.Empty), await ReceiveAsync());
        }

        return answer;
    }

    public void Dispose() => _socket.Dispose();

    private void ShutdownQuietly()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }
    }
}
