using Microsoft.Extensions.Logging;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Messages;

namespace Wevis.Runtime.Tests.Rooms;

/// <summary>
/// A message over the frame limit is refused to whoever tries to send it, before anything is sent: a room's
/// broadcast throws to the room's code, and no recipient is sent a frame it would have to drop the connection for.
/// </summary>
public class OversizedSendTests
{
    private const int Limit = 1024;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task AnOversizedBroadcastThrowsToTheRoomAndSendsNothingToAnyone()
    {
        await using TestServer server = await TestServer.StartInMemoryAsync(o => o.MaxFrameSize = Limit, new BroadcastingRoom());
        Client[] users = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => ConnectAsync(server, $"user{i}")));
        try
        {
            // Fits the limit as a Say (a body of 1,022 bytes); the Said the room makes of it, with the user's name, does not (1,027).
            users[0].Send(new Say(new string('x', Limit - 11)));
            LogEntry failure = await server.Log.WaitForAsync(e => e.Level == LogLevel.Error && e.Exception is ArgumentException, Bound);
            Assert.Contains("over the frame limit of 1024 bytes", failure.Exception!.Message);
            Assert.Contains("Said", failure.Exception.Message);

            // Everyone is still connected, and the next broadcast is the first thing anyone receives.
            users[1].Send(new Say("still here"));
            foreach (Client user in users)
            {
                Assert.Equal(new Said("user1", "still here"), await user.ReceiveAsync<Said>().AsTask().WaitAsync(Bound));
                Assert.True(user.IsConnected);
            }
        }
        finally
        {
            await Task.WhenAll(users.Select(u => u.DisposeAsync().AsTask()));
        }
    }

    [Fact]
    public async Task AnOversizedSendOnAConnectionThrowsToTheRoomAndTheConnectionCarriesOn()
    {
        await using TestServer server = await TestServer.StartInMemoryAsync(o => o.MaxFrameSize = Limit, new BroadcastingRoom());
        await using Client user = await ConnectAsync(server, "user1");

        // A Say of 1,022 bytes whose echo, a Said from "echo" with the same text, is 1,027.
        user.Send(new Say("echo " + new string('y', Limit - 16)));
        LogEntry failure = await server.Log.WaitForAsync(e => e.Level == LogLevel.Error && e.Exception is ArgumentException, Bound);
        Assert.Contains("over the frame limit", failure.Exception!.Message);

        user.Send(new Say("echo short"));
        Assert.Equal(new Said("echo", "short"), await user.ReceiveAsync<Said>().AsTask().WaitAsync(Bound));
    }

    [Fact]
    public async Task AClientSendingAnOversizedMessageGetsAnExceptionAndStaysConnected()
    {
        await using TestServer server = await TestServer.StartInMemoryAsync(o => o.MaxFrameSize = Limit, new BroadcastingRoom());
        await using Client user = await ConnectAsync(server, "user1");

        var refused = Assert.Throws<ArgumentException>(() => user.Send(new Say(new string('z', 2 * Limit))));

        Assert.Contains("over the frame limit of 1024 bytes", refused.Message);
        user.Send(new Say("small"));
        Assert.Equal(new Said("user1", "small"), await user.ReceiveAsync<Said>().AsTask().WaitAsync(Bound));
    }

    private static async Task<Client> ConnectAsync(TestServer server, string name)
    {
        Client client = server.CreateClient(name, "pw", configure: o => o.MaxFrameSize = Limit);
        await client.ConnectAsync();
        return client;
    }

    /// <summary>Relays each <c>Say</c> to everyone; <c>Say("echo …")</c> answers only the sender.</summary>
    private sealed class BroadcastingRoom : TimeRoom
    {
        protected override void Handle(Connection connection, IMessage message)
        {
            switch (message)
            {
                case Say(string text) when text.StartsWith("echo ", StringComparison.Ordinal):
                    connection.Send(new Said("echo", text.Length > 64 ? text : text[5..]));
                    break;
                case Say(string text):
                    Broadcast(new Said(connection.User.Name, text));
                    break;
                default:
                    base.Handle(connection, message);
                    break;
            }
        }

        protected override void OnUserEnter(Connection connection)
        {
        }
    }
}
