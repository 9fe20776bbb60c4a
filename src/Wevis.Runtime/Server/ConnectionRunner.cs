using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Wevis.Diagnostics;
using Wevis.Sessions;
using Wevis.Transport;

namespace Wevis;

/// <summary>
/// One accepted connection's life on the server: the TLS handshake (if the server has a certificate), the transport
/// and the session with one clock for TLS and login together, then the session until it ends, then the close,
/// the count of open connections and the log line.
/// </summary>
internal sealed class ConnectionRunner(
    ServerOptions options,
    MessageRegistry wireMessages,
    string fingerprint,
    ServerLogin login,
    ISessionHost host,
    OpenConnections connections,
    object flushGroup,
    ILogger logger,
    CancellationToken stopping,
    ServerMetrics? metrics = null,
    ResumableSessions? resumption = null)
{
    private readonly ConnectionLimits _limits = new(options.MaxFrameSize, options.MaxQueuedBytesPerConnection);
    private readonly TlsGate _tlsGate = new(options, wireMessages, logger, stopping);

    /// <summary>Runs a connection accepted on the listening socket.</summary>
    public Task RunAsync(long id, Socket socket) => RunAsync(id, socket, null);

    /// <summary>Runs a connection with no socket (in memory, for tests): its bytes go through <paramref name="stream"/>, without TLS.</summary>
    public Task RunAsync(long id, Stream stream) => RunAsync(id, null, stream);

    private async Task RunAsync(long id, Socket? socket, Stream? inMemory)
    {
        // Leave the accept loop at once: the TLS handshake and the login happen on their own.
        await Task.Yield();
        TimeProvider time = options.TimeProvider;
        ServerSession? session = null;
        try
        {
            // One clock for the TLS handshake and the login together, started at the accept.
            using var loginTimeout = new CancellationTokenSource(options.LoginTimeout, time);
            Stream stream;
            if (socket is null)
            {
                stream = inMemory!;
            }
            else if (options.Certificate is not { } certificate)
            {
                socket.NoDelay = true;
                stream = new NetworkStream(socket, ownsSocket: true);
            }
            else
            {
                socket.NoDelay = true;
                stream = new NetworkStream(socket, ownsSocket: true);
                if (!await _tlsGate.ClientStartsTlsAsync(id, socket, stream, loginTimeout.Token).ConfigureAwait(false))
                {
                    return;
                }

                Stream? secured = await AuthenticateAsync(id, socket, stream, certificate, loginTimeout.Token).ConfigureAwait(false);
                if (secured is null)
                {
                    return;
                }

                stream = secured;
            }

            var transport = new MessageConnection(stream, socket, wireMessages, _limits, flushGroup, time)
            {
                MaxIncomingFrameSize = options.MaxLoginFrameSize,
                Metrics = metrics,
            };
            session = new ServerSession(id, transport, login, host, fingerprint, new FlushBatch(flushGroup), time, logger, resumption);
            ServerLog.ConnectionOpened(logger, id, transport.RemoteEndPoint, connections.Add(session));
            session.Start();

            using CancellationTokenRegistration timeoutRegistration = loginTimeout.Token.Register(static state =>
            {
                var (s, seconds) = ((ServerSession, double))state!;
                s.LoginTimedOut($"did not log in within {seconds:0.###} s");
            }, (session, options.LoginTimeout.TotalSeconds));

            string reason = await session.RunAsync().ConfigureAwait(false);
            ServerLog.ConnectionClosed(logger, id, session.UserName, connections.Remove(session), reason);
        }
        catch (Exception ex) when (session is null && ex is IOException or SocketException or AuthenticationException or OperationCanceledException)
        {
            ServerLog.TlsFailed(logger, id, socket is null ? null : Listener.SafeRemoteEndPoint(socket), ex.Message);
            socket?.Dispose();
            inMemory?.Dispose();
        }
        catch (Exception ex)
        {
            // A bug (in a hand-written message descriptor, say), not the peer's doing: log it and drop only this connection.
            ServerLog.ConnectionFailed(logger, ex, id, session?.UserName ?? "not logged in");
            socket?.Dispose();
            inMemory?.Dispose();
            if (session is not null)
            {
                session.Transport.Abort(ServerSession.FailedReason);
                await session.EndAsync().ConfigureAwait(false);
                ServerLog.ConnectionClosed(logger, id, session.UserName, connections.Remove(session), session.Transport.CloseReason!);
            }
        }
        finally
        {
            // A connection that logged in gave its pending-login place back then.
            if (session is null || !session.HasLoggedIn)
            {
                connections.RemovePending();
            }

            if (session is not null)
            {
                await DrainAsync(session.Transport).ConfigureAwait(false);
            }
        }
    }

    private ValueTask DrainAsync(MessageConnection transport) =>
        transport.CloseAndDisposeAsync(stopping.IsCancellationRequested ? options.StopTimeout : TimeSpan.FromSeconds(2));

    /// <summary>Does the server's side of the TLS handshake; null (logged, and the connection closed) if it fails.</summary>
    private async Task<Stream?> AuthenticateAsync(long id, Socket socket, Stream stream, X509Certificate2 certificate, CancellationToken loginTimeout)
    {
        EndPoint? remote = Listener.SafeRemoteEndPoint(socket);
        var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stopping, loginTimeout);
        try
        {
            await ssl.AuthenticateAsServerAsync(
                new SslServerAuthenticationOptions { ServerCertificate = certificate, ClientCertificateRequired = false },
                cancel.Token).ConfigureAwait(false);
            return ssl;
        }
        catch (Exception ex) when (ex is IOException or SocketException or AuthenticationException or OperationCanceledException)
        {
            string reason = loginTimeout.IsCancellationRequested ? $"did not finish the TLS handshake within {options.LoginTimeout.TotalSeconds:0.###} s"
                : stopping.IsCancellationRequested ? "the server is stopping"
                : ex.Message;
            ServerLog.TlsFailed(logger, id, remote, reason);
            await ssl.DisposeAsync().ConfigureAwait(false);
            return null;
        }
    }
}
