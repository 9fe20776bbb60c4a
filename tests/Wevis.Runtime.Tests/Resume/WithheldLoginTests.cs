using System.Net.Sockets;
using Wevis.Protocol;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Messages;
using Wevis.Serialization;
using Wevis.Sessions;
using Wevis.Transport;

namespace Wevis.Runtime.Tests.Resume;

/// <summary>
/// A client stopping during a reconnect attempt gives the attempt's connection up: cut if its login was never sent
/// (the server holds nothing for it), closed with <c>_Closing</c> if it was (the server may accept it). The session
/// decides which in one atomic step with answering the welcome (<see cref="ClientSession.WithholdLogin"/>): looked at
/// apart, a welcome answered between the look and the cut sent the login just before the cut, and the server took
/// that for a lost connection and held the session for its grace period. The race through a whole client (the
/// welcome handled between Client.ReconnectAttempt.StopAsync's look and its cut) cannot be forced: nothing a test can
/// hold lies between the two. These check the session's half: after the login is withheld a welcome sends nothing and
/// cuts the connection, and withholding after the login was sent says so.
/// </summary>
public class WithheldLoginTests
{
    [Fact]
    public async Task AWelcomeArrivingAfterTheLoginWasWithheldSendsNoLoginAndCutsTheConnection()
    {
        (RawPeer server, ClientSession session, MessageConnection transport, Task<string> run) = await StartAsync();
        using (server)
        {
            Assert.IsType<Hello>(await server.ReceiveAsync());
            Assert.False(session.WithholdLogin());

            await server.SendAsync(new Welcome(WireProtocol.Version, "salt", WevisRegistry.Messages.Fingerprint));

            // Neither the resume nor the login: the connection ends (cut, without a farewell) before anything else.
            Assert.Null(await server.ReceiveAsync());
            await run.Within();
            Assert.False(session.LoginSent);
            await Assert.ThrowsAsync<ConnectionFailedException>(() => session.LoggedIn).Within();
            await transport.CloseAndDisposeAsync(TimeSpan.FromSeconds(5)).Within();
        }
    }

    [Fact]
    public async Task WithholdingALoginAlreadySentSaysItWasSent()
    {
        (RawPeer server, ClientSession session, MessageConnection transport, Task<string> run) = await StartAsync();
        using (server)
        {
            Assert.IsType<Hello>(await server.ReceiveAsync());
            await server.SendAsync(new Welcome(WireProtocol.Version, "salt", WevisRegistry.Messages.Fingerprint));
            Assert.IsType<Wevis.Protocol.Resume>(await server.ReceiveAsync());
            Assert.IsType<Login>(await server.ReceiveAsync());

            // The server may accept it: the caller closes with the farewell instead of cutting.
            Assert.True(session.WithholdLogin());
            Assert.True(session.LoginSent);

            transport.Close("the client was stopped", new Closing("the client was stopped"));
            Assert.IsType<Closing>(await server.ReceiveAsync());
            server.Socket.Shutdown(SocketShutdown.Send);
            await run.Within();
            await transport.CloseAndDisposeAsync(TimeSpan.FromSeconds(5)).Within();
        }
    }

    /// <summary>A resuming client session (as a reconnect attempt's) connected to a hand-driven server, started.</summary>
    private static async Task<(RawPeer Server, ClientSession Session, MessageConnection Transport, Task<string> Run)> StartAsync()
    {
        (RawPeer server, ClientSession session, MessageConnection transport) = await HandDrivenServer.ConnectAsync(new IgnoringReceiver());
        session.Start();
        return (server, session, transport, session.RunAsync());
    }

    private sealed class IgnoringReceiver : IClientReceiver
    {
        public void Receive(List<IMessage> messages, int start, int end)
        {
        }
    }
}
