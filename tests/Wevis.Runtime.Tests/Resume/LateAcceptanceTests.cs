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
        var receiver = new CountingReceiver();
        (RawPeer server, ClientSession session, MessageConnection transport) = await HandDrivenServer.ConnectAsync(receiver);
        using RawPeer serverEnd = server;
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
        await server.SendRawAsync([.. RawPeer.Frame(new Resumed(HandDrivenServer.Token, 0)), .. RawPeer.Frame(new LoginAccepted()), .. RawPeer.Frame(new Numbered(1))]).Within();

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
