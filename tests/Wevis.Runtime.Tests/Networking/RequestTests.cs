using Lobby;
using Microsoft.Extensions.Logging;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Requests;

namespace Wevis.Runtime.Tests.Networking;

/// <summary>
/// Requests and replies end to end: each caller gets its own reply among many in flight and broadcasts; a late reply
/// is dropped with a log line; a failure reaches the caller with the room's reason.
/// </summary>
public class RequestTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    /// <summary>Awaits <paramref name="task"/> for at most <see cref="Bound"/>, failing with what was awaited.</summary>
    private static async Task<T> Within<T>(Task<T> task, string what)
    {
        try
        {
            return await task.WaitAsync(Bound);
        }
        catch (TimeoutException ex) when (!task.IsCompleted)
        {
            throw new TimeoutException($"Gave up after {Bound.TotalSeconds} s {what}.", ex);
        }
    }

    private static async Task Within(Task task, string what)
    {
        try
        {
            await task.WaitAsync(Bound);
        }
        catch (TimeoutException ex) when (!task.IsCompleted)
        {
            throw new TimeoutException($"Gave up after {Bound.TotalSeconds} s {what}.", ex);
        }
    }

    private static async Task<(TestServer Server, RequestRoom Room, Client Client)> StartAsync(Action<ClientOptions>? configure = null)
    {
        var room = new RequestRoom();
        TestServer server = await TestServer.StartAsync(room: room);
        Client client = server.CreateClient(configure: configure);
        await client.ConnectAsync().WaitAsync(Bound);
        await client.ReceiveAsync<Example.ServerReady>().AsTask().WaitAsync(Bound);
        return (server, room, client);
    }

    [Fact]
    public async Task AThousandRequestsInFlightWithBroadcastsBetweenEachGetTheirOwnReply()
    {
        (TestServer server, _, Client client) = await StartAsync();
        await using (server)
        await using (client)
        {
            const int Count = 1_000;

            // All sent before any reply is awaited. The room answers each pair out of order (1, then 0; 3, then 2; …),
            // and broadcasts a Tick to everyone before each reply.
            Task<Echoed>[] replies = [.. Enumerable.Range(0, Count).Select(i => client.RequestAsync(new Echo(i)).AsTask())];
            Echoed[] answered = await Task.WhenAll(replies).WaitAsync(Bound);

            Assert.Equal(Enumerable.Range(0, Count), answered.Select(e => e.Sequence));
            // The broadcasts went to the inbox, in the order the room sent them, and nothing else did.
            for (int i = 0; i < Count; i++)
            {
                int expected = i % 2 == 0 ? i + 1 : i - 1;
                Assert.Equal(expected, (await Within(client.ReceiveAsync<Tick>().AsTask(), "waiting for a broadcast")).Sequence);
            }

            Assert.False(client.TryReceive(out IMessage? extra), $"unexpected {extra}");
        }
    }

    [Fact]
    public async Task AnEventHandlerThatThrowsIsLoggedAndTheClientWorksOn()
    {
        (TestServer server, _, Client client) = await StartAsync();
        await using (server)
        await using (client)
        {
            server.Server.Rooms.Define("other", () => new RequestRoom());
            client.RoomChanged += (_, _) => throw new NotSupportedException("the handler broke");

            // The handler runs on the receive loop, before the join completes: the loop must live through it.
            ClientRoom room = await Within(client.JoinOrCreateRoomAsync("other"), "waiting for the room change");
            Assert.Equal("other", room.Type);
            Assert.Equal(new Answer("still here?"), await Within(client.RequestAsync(new Ask("still here?")).AsTask(), "waiting for a reply"));
            Assert.Contains(server.Log.Entries, e => e.Level == LogLevel.Error && e.Exception is NotSupportedException);

            // And the session still ends as it should: receiving (the new room's welcome first) hears of the server's close.
            await Within(server.Server.StopAsync(), "waiting for the server to stop");
            await Assert.ThrowsAsync<ConnectionClosedException>(() => Within(ReceiveUntilClosedAsync(), "waiting for the close"));

            async Task<IMessage> ReceiveUntilClosedAsync()
            {
                while (true)
                {
                    await client.ReceiveAsync();
                }
            }
        }
    }

    [Fact]
    public async Task AReplyFromSeveralPossibleIsMatchedOnItsSharedInterface()
    {
        (TestServer server, _, Client client) = await StartAsync();
        await using (server)
        await using (client)
        {
            using var bound = new CancellationTokenSource(Bound);
            CancellationToken cancellationToken = bound.Token;
            IJoinReply reply = await client.RequestAsync(new Join("lobby"), cancellationToken);
            IJoinReply full = await client.RequestAsync(new Join("full"), cancellationToken);

            Assert.Equal(new Joined("lobby", 1), reply);
            Assert.Equal(new RoomFull("full"), full);
        }
    }

    [Fact]
    public async Task ATimedOutRequestsLateReplyIsDroppedWithALogLineAndNotGivenToTheNextCaller()
    {
        (TestServer server, RequestRoom room, Client client) = await StartAsync();
        await using (server)
        await using (client)
        {
            using var bound = new CancellationTokenSource(Bound);
            Task<Answer> first = client.RequestAsync(new Ask("hold"), TimeSpan.FromMilliseconds(300)).AsTask();
            await room.HeldAsync(bound.Token);
            TimeoutException timeout = await Assert.ThrowsAsync<TimeoutException>(() => first.WaitAsync(Bound));
            Assert.StartsWith("No reply to the Ask request (id 1) arrived within 0.3 s.", timeout.Message, StringComparison.Ordinal);

            // The next caller's request is in flight when the room answers both, the timed-out one first.
            Task<Answer> next = client.RequestAsync(new Ask("hold")).AsTask();
            await room.HeldAsync(bound.Token);
            await Within(room.AnswerHeldAsync(), "waiting for the room to answer");

            Assert.Equal("answer to request 2", (await Within(next, "waiting for the next caller's reply")).Text);
            LogEntry dropped = await server.Log.WaitForAsync(e => e.Category == "Wevis.Client" && e.EventId.Id == 106, Bound);
            Assert.Equal(LogLevel.Information, dropped.Level);
            Assert.StartsWith("An answer to request 1 (Answer) arrived from 127.0.0.1:", dropped.Message, StringComparison.Ordinal);
            Assert.False(client.TryReceive(out IMessage? extra), $"unexpected {extra}");
        }
    }

    [Fact]
    public async Task ACancelledRequestEndsAtOnceAndItsReplyIsDropped()
    {
        (TestServer server, RequestRoom room, Client client) = await StartAsync();
        await using (server)
        await using (client)
        {
            using var bound = new CancellationTokenSource(Bound);
            using var cancel = new CancellationTokenSource();
            Task<Answer> held = client.RequestAsync(new Ask("hold"), cancel.Token).AsTask();
            await room.HeldAsync(bound.Token);

            cancel.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => held.WaitAsync(Bound));
            await room.AnswerHeldAsync().WaitAsync(Bound);
            await server.Log.WaitForAsync(e => e.EventId.Id == 106, Bound);
            Assert.Equal("next", (await client.RequestAsync(new Ask("next")).AsTask().WaitAsync(Bound)).Text);
        }
    }

    [Fact]
    public async Task AFailureReachesTheCallerWithTheRoomsReason()
    {
        (TestServer server, _, Client client) = await StartAsync();
        await using (server)
        await using (client)
        {
            RequestFailedException refused = await Assert.ThrowsAsync<RequestFailedException>(
                () => client.RequestAsync(new Ask("fail:No questions today.")).AsTask().WaitAsync(Bound));
            RequestFailedException noRoom = await Assert.ThrowsAsync<RequestFailedException>(
                () => client.RequestAsync(new Join(string.Empty)).AsTask().WaitAsync(Bound));

            Assert.Equal(("Ask", "No questions today."), (refused.RequestName, refused.Reason));
            Assert.Equal("The server refused the Ask request: No questions today.", refused.Message);
            Assert.Equal("Name a room to join.", noRoom.Reason);
            Assert.True(client.IsConnected);
        }
    }

    [Fact]
    public async Task AHandlerThatThrowsAnswersWithAFailureThatDoesNotRevealTheException()
    {
        (TestServer server, _, Client client) = await StartAsync();
        await using (server)
        await using (client)
        {
            RequestFailedException failed = await Assert.ThrowsAsync<RequestFailedException>(
                () => client.RequestAsync(new Ask("throw")).AsTask().WaitAsync(Bound));

            Assert.Equal("the server failed while handling the request", failed.Reason);
            Assert.Contains(server.Warnings, e => e.Exception?.Message == "the handler broke");
            Assert.Equal("still here", (await client.RequestAsync(new Ask("still here")).AsTask().WaitAsync(Bound)).Text);
        }
    }

    [Fact]
    public async Task ARequestIsAnsweredOnce()
    {
        (TestServer server, RequestRoom room, Client client) = await StartAsync();
        await using (server)
        await using (client)
        {
            Assert.Equal("once", (await client.RequestAsync(new Ask("twice")).AsTask().WaitAsync(Bound)).Text);

            Assert.StartsWith("The Ask request 1 has been answered already", Assert.IsType<InvalidOperationException>(room.SecondAnswer).Message, StringComparison.Ordinal);
            Assert.False(client.TryReceive(out IMessage? extra), $"unexpected {extra}");
        }
    }

    [Fact]
    public async Task TheBlockingFormWaitsForTheReply()
    {
        (TestServer server, _, Client client) = await StartAsync();
        await using (server)
        await using (client)
        {
            Answer answer = await Task.Run(() => client.RequestBlocking(new Ask("blocking"), Bound)).WaitAsync(Bound);

            Assert.Equal("blocking", answer.Text);
            Assert.Throws<TimeoutException>(() => client.RequestBlocking(new Ask("hold"), TimeSpan.FromMilliseconds(100)));
        }
    }

    [Fact]
    public async Task RequestsInFlightFailWhenTheConnectionCloses()
    {
        (TestServer server, RequestRoom room, Client client) = await StartAsync();
        await using (server)
        await using (client)
        {
            using var bound = new CancellationTokenSource(Bound);
            Task<Answer> held = client.RequestAsync(new Ask("hold")).AsTask();
            await room.HeldAsync(bound.Token);

            await server.Server.StopAsync().WaitAsync(Bound);

            ConnectionClosedException closed = await Assert.ThrowsAsync<ConnectionClosedException>(() => held.WaitAsync(Bound));
            Assert.Contains("the server is stopping", closed.Reason, StringComparison.Ordinal);
            await Assert.ThrowsAsync<ConnectionClosedException>(() => client.RequestAsync(new Ask("after")).AsTask().WaitAsync(Bound));
        }
    }

    [Fact]
    public async Task ARequestOverItsBoundIsNotSentAndTheClientCarriesOn()
    {
        (TestServer server, _, Client client) = await StartAsync();
        await using (server)
        await using (client)
        {
            ArgumentTooLargeException ex = Assert.Throws<ArgumentTooLargeException>(() => client.RequestAsync(new Ask(new string('?', 65))));

            Assert.Equal(("Ask", "question", 65L, 64), (ex.MessageName, ex.ArgumentName, ex.Size, ex.Bound));
            Assert.Equal("fine", (await client.RequestAsync(new Ask("fine")).AsTask().WaitAsync(Bound)).Text);
        }
    }
}
