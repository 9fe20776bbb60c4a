using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Messages;
using Wevis.Sessions;
using Wevis.Transport;

namespace Wevis.Runtime.Tests.Resume;

/// <summary>
/// A resuming client session (as a reconnect attempt's, holding a resume token) connected over loopback to a server
/// the test drives by hand, frame by frame: for the session's half of races that cannot be forced through a whole client.
/// </summary>
internal static class HandDrivenServer
{
    /// <summary>The resume token the session holds.</summary>
    public const string Token = "TokenTokenTokenTokenAA";

    /// <summary>Connects a session that hands what it receives to <paramref name="receiver"/>; not started, so the test can set its hooks first.</summary>
    public static async Task<(RawPeer Server, ClientSession Session, MessageConnection Transport)> ConnectAsync(IClientReceiver receiver)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, port).Within();
        RawPeer server = RawPeer.Wrap(await listener.AcceptSocketAsync().Within());

        var clock = new TestClock();
        var batch = new FlushBatch(new object());
        MessageRegistry wire = MessageRegistry.Combine(Wevis.WevisRegistry.Messages, WevisRegistry.Messages);
        var transport = new MessageConnection(new NetworkStream(socket, ownsSocket: true), socket, wire, new ConnectionLimits(1 << 20, 1 << 20), batch.Group, clock);
        var session = new ClientSession(
            transport,
            new LoginRequest("user1", "pw", TestServer.Version, WevisRegistry.Messages.Fingerprint),
            receiver,
            batch,
            clock,
            Timeout.InfiniteTimeSpan,
            NullLogger.Instance,
            "127.0.0.1",
            port,
            new ClientResumeState(1 << 20) { Token = Token });
        return (server, session, transport);
    }
}
