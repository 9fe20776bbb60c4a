using System.Net.Security;
using System.Net.Sockets;

namespace Wevis.Transport;

/// <summary>Opens a client's TCP connection, with TLS over it when asked.</summary>
internal static class TcpConnector
{
    /// <summary>Connects to <paramref name="host"/>:<paramref name="port"/>; with <paramref name="tls"/>, authenticates the server.</summary>
    /// <exception cref="SocketException">The server could not be reached.</exception>
    /// <exception cref="System.Security.Authentication.AuthenticationException">The TLS handshake failed.</exception>
    public static async Task<(Socket Socket, Stream Stream)> ConnectAsync(string host, int port, SslClientAuthenticationOptions? tls, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? stream = null;
        try
        {
            await socket.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
            stream = new NetworkStream(socket, ownsSocket: true);
            if (tls is not null)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                await ssl.AuthenticateAsClientAsync(tls, cancellationToken).ConfigureAwait(false);
            }

            return (socket, stream);
        }
        catch
        {
            if (stream is not null)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }

            socket.Dispose();
            throw;
        }
    }
}
