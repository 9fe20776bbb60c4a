using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Wevis.Protocol;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Messages;
using Wevis.Serialization;
using Wevis.Sessions;
using Wevis.Transport;

namespace Wevis.Runtime.Tests.Resume;

/// <summary>
/// A reconnect attempt the client has given up on, whose login the server accepts an instant later. The client's
/// reconnecting task and the attempt's receive loop settle it once between them (Client.ReconnectAttempt; the race
/// through a whole client is in <see cref="ReconnectTimeoutTests"/>). This checks the session's half of the
/// agreement: a login its owner refuses (<see cref="ClientSession.OnLoggedIn"/> returning false) ends as a failed
/// login, never as an accepted one that was cut, which the receive loop would take for a drop and reconnect.
/// </summary>
public class LateAcceptanceTests
{
    [Fact]
    public async Task ALoginAcceptedAfterTheClientGaveUpOnItFailsWithoutAFarewellAndHandsNothingUp()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, port).Within();
        using RawPeer server = RawPeer.Wrap(await listener.AcceptSocketAsync().Within());

        var clock = new TestClock();
        var batch = new FlushBatch(new object());
        MessageRegistry wire = MessageRegistry.Combine(Wevis.WevisRegistry.Messages, WevisRegistry.Messages);
        var transport = new MessageConnection(new NetworkStream(socket, ownsSocket: true), socket, wire, new ConnectionLimits(1 << 20, 1 << 20), batch.Group, clock);
        var receiver = new CountingReceiver();
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
            new ClientResumeState(1 << 20) { Token = "TokenTokenTokenTokenAA" });
        int asked = 0;
        session.OnLoggedIn = () =>
        {
            asked++;
            return false;
        };
        session.Start();
        Task<string> run = session.RunAsync();

        Assert.IsType<Hello>(await server.ReceiveAsync());
        await server.SendAsync(new Welcome(WireProtocol.Version, "salt", WevisRegistry.Messages.Fingerprint));
        Assert.IsType<Wevis.Protocol.Resume>(await server.ReceiveAsync());
        Assert.IsType<Login>(await server.ReceiveAsync());

        // The acceptance and a replayed message in one write, so the message would be handed up in the same batch.
        await server.SendRawAsync([.. RawPeer.Frame(new Resumed("TokenTokenTokenTokenAA", 0)), .. RawPeer.Frame(new LoginAccepted()), .. RawPeer.Frame(new Numbered(1))]).Within();

        await run.Within();
        Assert.Equal(1, asked);
        Assert.False(session.HasLoggedIn);
        Assert.False(session.IsLoggedIn);
        Assert.False(session.EndedByServer);
        await Assert.ThrowsAsync<ConnectionFailedException>(() => session.LoggedIn).Within();
        Assert.Equal(0, receiver.Received);

        // Cut without _Closing: the server keeps the session it resumed for the client's next attempt.
        Assert.DoesNotContain(await server.ReceiveUntilClosedAsync(), m => m is Closing);
        await transport.CloseAndDisposeAsync(TimeSpan.FromSeconds(5)).Within();
    }

    private sealed class CountingReceiver : IClientReceiver
    {
        public int Received { get; private set; }

        public void Receive(List<IMessage> messages, int start, int end) => Received += end - start;
    }
}
