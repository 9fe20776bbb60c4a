using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Wevis.Protocol;
using Wevis.Transport;

namespace Wevis;

/// <summary>
/// A TLS server's look at a new connection's first byte, before the handshake. A TLS server and a plain client
/// would otherwise both wait, each for the other to speak first, until the login times out; the client speaks
/// first (its <c>_Hello</c>), so a first byte that does not start a TLS handshake means a plain client, who is told
/// so in plain Wevis.
/// </summary>
internal sealed class TlsGate(ServerOptions options, MessageRegistry wireMessages, ILogger logger, CancellationToken stopping)
{
    /// <summary>What a plain client connecting to a TLS server is told, in plain Wevis, before the server closes.</summary>
    internal const string TlsRequiredReason = "this server requires TLS; connect with TLS (in Wevis, ClientOptions.UseTls = true)";

    /// <summary>
    /// Waits for the client's first byte, within the login timeout, without taking it: true if it starts a TLS
    /// handshake. Otherwise the client is plain: it is told in a plain <c>_Closing</c> that this server requires TLS,
    /// the connection is closed and logged (event 14), and the answer is false, as it is if the client says nothing.
    /// </summary>
    public async Task<bool> ClientStartsTlsAsync(long id, Socket socket, Stream stream, CancellationToken loginTimeout)
    {
        EndPoint? remote = Listener.SafeRemoteEndPoint(socket);
        byte? first;
        using (var cancel = CancellationTokenSource.CreateLinkedTokenSource(stopping, loginTimeout))
        {
            try
            {
                first = await TlsDetection.PeekFirstByteAsync(socket, cancel.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                string reason = loginTimeout.IsCancellationRequested ? $"did not start the TLS handshake within {options.LoginTimeout.TotalSeconds:0.###} s"
                    : stopping.IsCancellationRequested ? "the server is stopping"
                    : ex.Message;
                ServerLog.TlsFailed(logger, id, remote, reason);
                await stream.DisposeAsync().ConfigureAwait(false);
                return false;
            }
        }

        if (first == TlsDetection.HandshakeRecord)
        {
            return true;
        }

        if (first is not { } plain)
        {
            ServerLog.TlsFailed(logger, id, remote, "the client closed the connection before the TLS handshake");
            await stream.DisposeAsync().ConfigureAwait(false);
            return false;
        }

        ServerLog.TlsFailed(logger, id, remote, $"the client does not use TLS (its first byte is 0x{plain:x2}, where a TLS handshake starts with 0x16); it was told that this server requires TLS");
        var limits = new ConnectionLimits(options.MaxLoginFrameSize, options.MaxQueuedBytesPerConnection);
        var transport = new MessageConnection(stream, socket, wireMessages, limits, new object(), options.TimeProvider);
        transport.Start();
        transport.Close(TlsRequiredReason, new Closing(TlsRequiredReason), MessageConnection.MisbehaviourLingerTimeout);
        await transport.CloseAndDisposeAsync(MessageConnection.MisbehaviourLingerTimeout).ConfigureAwait(false);
        return false;
    }
}
