using System.Net;
using System.Net.Sockets;
using Wevis.Protocol;
using Wevis.Transport;

namespace Wevis;

// A TLS server and a plain client would otherwise both wait, each for the other to speak first, until the login
// times out. The client speaks first (its _Hello), so the server looks at the first byte before starting TLS.
public sealed partial class Server
{
    /// <summary>What a plain client connecting to a TLS server is told, in plain Wevis, before the server closes.</summary>
    internal const string TlsRequiredReason = "this server requires TLS; connect with TLS (in Wevis, ClientOptions.UseTls = true)";

    /// <summary>
    /// Waits for the client's first byte, within the login timeout, without taking it: true if it starts a TLS
    /// handshake. Otherwise the client is plain: it is told in a plain <c>_Closing</c> that this server requires TLS,
    /// the connection is closed and logged (event 14), and the answer is false, as it is if the client says nothing.
    /// </summary>
    private async Task<bool> ClientStartsTlsAsync(long id, Socket socket, Stream stream, CancellationToken loginTimeout)
    {
        EndPoint? remote = SafeRemoteEndPoint(socket);
        byte? first;
        using (var cancel = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, loginTimeout))
        {
            try
            {
                first = await TlsDetection.PeekFirstByteAsync(socket, cancel.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                string reason = loginTimeout.IsCancellationRequested ? $"did not start the TLS handshake within {_options.LoginTimeout.TotalSeconds:0.###} s"
                    : _stopping.IsCancellationRequested ? "the server is stopping"
                    : ex.Message;
                ServerLog.TlsFailed(_logger, id, remote, reason);
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
            ServerLog.TlsFailed(_logger, id, remote, "the client closed the connection before the TLS handshake");
            await stream.DisposeAsync().ConfigureAwait(false);
            return false;
        }

        ServerLog.TlsFailed(_logger, id, remote, $"the client does not use TLS (its first byte is 0x{plain:x2}, where a TLS handshake starts with 0x16); it was told that this server requires TLS");
        var transport = new MessageConnection(stream, socket, _wireMessages, _limits) { MaxIncomingFrameSize = _options.MaxLoginFrameSize };
        transport.Start();
        transport.Close(TlsRequiredReason, new Closing(TlsRequiredReason), MessageConnection.MisbehaviourLingerTimeout);
        await transport.CloseAndDisposeAsync(MessageConnection.MisbehaviourLingerTimeout).ConfigureAwait(false);
        return false;
    }
}
