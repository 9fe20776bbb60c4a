using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Wevis.Protocol;
using Wevis.Transport;

namespace Wevis;

/// <summary>
/// The listening socket and its accept loop: hands each accepted socket to the connection runner, turns connections
/// away while <see cref="ServerOptions.MaxPendingLogins"/> are logging in, and keeps going when accepting fails for a
/// while (out of file descriptors, say), pausing longer each time.
/// </summary>
internal sealed class Listener(Socket socket, ServerOptions options, OpenConnections connections, Func<long, Socket, Task> runConnection, ILogger logger)
{
    /// <summary>What a connection turned away by <see cref="ServerOptions.MaxPendingLogins"/> is told.</summary>
    private static readonly byte[] s_busyFrame = EncodeFrame(new Closing("the server is busy: too many connections are logging in; try again later"));

    private long _nextConnectionId;

    /// <summary>Opens a listening socket on <paramref name="endPoint"/>.</summary>
    public static Socket Listen(IPEndPoint endPoint, int backlog)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endPoint.AddressFamily == AddressFamily.InterNetworkV6 && endPoint.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            socket.Bind(endPoint);
            socket.Listen(backlog);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Accepts until <paramref name="stopping"/> is cancelled; throws only for an error that is not the network's.</summary>
    public async Task AcceptAsync(CancellationToken stopping)
    {
        TimeSpan backoff = TimeSpan.Zero;
        while (true)
        {
            Socket accepted;
            try
            {
                accepted = await socket.AcceptAsync(stopping).ConfigureAwait(false);
                backoff = TimeSpan.Zero;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
            {
                continue;
            }
            catch (SocketException ex)
            {
                // Out of file descriptors or buffers, say: a condition that passes as connections close. Keep
                // serving those already open, and try again after a pause that grows while it lasts.
                backoff = backoff == TimeSpan.Zero ? TimeSpan.FromMilliseconds(10) : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.TicksPerSecond));
                ServerLog.AcceptFailed(logger, ex.SocketErrorCode, ex.Message, (long)backoff.TotalMilliseconds);
                try
                {
                    await Task.Delay(backoff, options.TimeProvider, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            if (connections.PendingLogins >= options.MaxPendingLogins)
            {
                ServerLog.TooManyPendingLogins(logger, SafeRemoteEndPoint(accepted), options.MaxPendingLogins);
                RefuseBusy(accepted);
                continue;
            }

            connections.AddPending();
            long id = Interlocked.Increment(ref _nextConnectionId);
            connections.Track(id, runConnection(id, accepted));
        }
    }

    /// <summary>
    /// Turns a connection away without serving it. Without TLS the client is told why, in a <c>_Closing</c> it
    /// reads in place of the welcome (one small write into an empty socket buffer, which does not block).
    /// </summary>
    private void RefuseBusy(Socket accepted)
    {
        try
        {
            if (options.Certificate is null)
            {
                accepted.Blocking = false;
                accepted.Send(s_busyFrame, SocketFlags.None, out _);
                accepted.Shutdown(SocketShutdown.Send);
                accepted.Close();
                return;
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // The peer has gone already.
        }

        accepted.Close(0);
    }

    internal static EndPoint? SafeRemoteEndPoint(Socket socket)
    {
        try
        {
            return socket.RemoteEndPoint;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return null;
        }
    }

    private static byte[] EncodeFrame(IMessage message)
    {
        FrameBuffer frame = FrameBuffer.Encode(message);
        byte[] bytes = frame.Frame.ToArray();
        FrameBuffer.Return(frame);
        return bytes;
    }
}
