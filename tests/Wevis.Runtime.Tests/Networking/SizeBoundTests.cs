using Lobby;
using Wevis.Runtime.Tests.Infrastructure;

namespace Wevis.Runtime.Tests.Networking;

/// <summary>
/// Size bounds on a live connection: sending a message over a bound throws, names the message, the argument, its
/// size and the bound, and sends nothing, on either side; the connection carries on. (Receiving one is in
/// <see cref="Reliability.HostileFrameTests"/>.)
/// </summary>
public class SizeBoundTests
{
    [Fact]
    public async Task AClientSendingAnArgumentOverItsBoundIsRefusedBeforeAnythingIsSent()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using Client client = await server.ConnectAsync();

        ArgumentTooLargeException ex = Assert.Throws<ArgumentTooLargeException>(() => client.Send(new Talk(new string('x', 201))));

        Assert.Equal(("Talk", "text", 201L, 200), (ex.MessageName, ex.ArgumentName, ex.Size, ex.Bound));
        client.Send(new Example.WhoAmI());
        Assert.Equal("michael", (await client.ReceiveAsync<Example.YouAre>().AsTask().WaitAsync(TimeSpan.FromSeconds(10))).Name);
        Assert.Empty(server.Warnings);
    }

    [Fact]
    public async Task ARoomSendingAnArgumentOverItsBoundGetsTheExceptionAndTheClientNothing()
    {
        var room = new OversizeRoom();
        await using TestServer server = await TestServer.StartAsync(room: room);
        await using Client client = await server.ConnectAsync();

        client.Send(new Heartbeat(1));
        client.Send(new Example.WhoAmI());

        // The room's send threw; what follows it arrives, and nothing before it.
        Assert.IsType<Example.YouAre>(await client.ReceiveAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        ArgumentTooLargeException ex = Assert.IsType<ArgumentTooLargeException>(room.Failure);
        Assert.Equal(("Talked", "player", 33L, 32), (ex.MessageName, ex.ArgumentName, ex.Size, ex.Bound));
        Assert.True(client.IsConnected);
    }

    /// <summary>A room that answers a heartbeat with a broadcast whose player name is over its bound.</summary>
    private sealed class OversizeRoom : TimeRoom
    {
        public Exception? Failure { get; private set; }

        protected override void Handle(Connection connection, IMessage message)
        {
            if (message is not Heartbeat)
            {
                base.Handle(connection, message);
                return;
            }

            try
            {
                Broadcast(new Talked(new string('p', 33), "hello"));
            }
            catch (ArgumentTooLargeException ex)
            {
                Failure = ex;
            }
        }
    }
}
