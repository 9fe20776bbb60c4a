using System.Net.Sockets;

namespace Wevis.Transport;

/// <summary>Opens a client's TCP connection.</summary>
internal static class TcpConnector
{
    /// <summary>Connects to <paramref name="host"/>:<paramref name="port"/>, with Nagle's delay off.</summary>
    /// <exception cref="SocketException">The server could not be reached.</exception>
    public static async Task<(Socket Socket, Stream Stream)> ConnectAsync(string host, int port, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
            return (socket, new NetworkStream(socket, ownsSocket: true));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
