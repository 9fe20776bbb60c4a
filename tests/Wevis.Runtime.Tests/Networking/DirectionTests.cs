using Lobby;
using Wevis.Runtime.Tests.Infrastructure;

namespace Wevis.Runtime.Tests.Networking;

/// <summary>
/// Directions at run time: the compiler keeps typed sends the right way (see the generator's CompilationTests); an
/// untyped send checks the direction itself, and a peer that sends the wrong way anyway is disconnected.
/// </summary>
public class DirectionTests
{
    [Fact]
    public async Task AnUntypedSendRefusesAMessageOnlyTheServerSendsAndTheConnectionCarriesOn()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using Client client = await server.ConnectAsync();

        ArgumentException ex = Assert.Throws<ArgumentException>(() => client.SendUntyped(new Talked("ann", "hi")));

        Assert.StartsWith("Talked is sent only by the server (server: Talked player=str(32) text=str(200)); a client cannot send it.", ex.Message, StringComparison.Ordinal);
        client.SendUntyped(new Example.WhoAmI());
        Assert.Equal("michael", (await client.ReceiveAsync<Example.YouAre>().AsTask().WaitAsync(TimeSpan.FromSeconds(10))).Name);
    }

    [Fact]
    public async Task AClientDisconnectsAServerThatSendsAClientsMessage()
    {
        await using TestServer server = await TestServer.StartAsync(room: new WrongWayRoom());
        await using Client client = await server.ConnectAsync();

        client.Send(new Heartbeat(1));
        ConnectionClosedException closed = await Assert.ThrowsAsync<ConnectionClosedException>(
            () => client.ReceiveAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal("the server sent Talk, which only clients send", closed.Reason);
        await server.Log.WaitForAsync(e => e.Category == "Wevis.Client" && e.Message.Contains("which only clients send", StringComparison.Ordinal));
    }

    /// <summary>A room that answers a heartbeat with a message only clients send, past the compiler's check.</summary>
    private sealed class WrongWayRoom : TimeRoom
    {
        protected override void Handle(Connection connection, IMessage message)
        {
            if (message is Heartbeat)
            {
                ((LocalConnection)connection).Session.Transport.TrySend(new Talk("from the server"));
                return;
            }

            base.Handle(connection, message);
        }
    }
}
