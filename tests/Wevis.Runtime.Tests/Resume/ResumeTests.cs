using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Messages;

namespace Wevis.Runtime.Tests.Resume;

/// <summary>A resumable session over a connection that breaks: the same user, room and messages, each once, in order.</summary>
public class ResumeTests
{
    [Theory]
    [InlineData(FaultKind.Reset)]
    [InlineData(FaultKind.Close)]
    [InlineData(FaultKind.BlackHole)]
    public async Task TheSessionResumesAfterABreakWithNothingLostOrRepeated(FaultKind kind)
    {
        var room = new ResumeRoom();
        await using TestServer server = await ResumeExchange.StartServerAsync(room);
        await using var proxy = new FaultProxy(server.Port);
        await using Client client = ResumeExchange.CreateClient(server, proxy.Port, "user1");
        int dropped = 0;
        int resumed = 0;
        client.Dropped += (_, _) => Interlocked.Increment(ref dropped);
        var resumedOnce = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Resumed += (_, _) =>
        {
            Interlocked.Increment(ref resumed);
            resumedOnce.TrySetResult();
        };
        await client.ConnectAsync().Within();

        int replies = await ResumeExchange.RunAsync(client, 3000, 100, afterReply: n =>
        {
            if (n == 1000)
            {
                proxy.BreakAll(kind);
            }
        }).Within(TimeSpan.FromSeconds(30));

        Assert.Equal(3000, replies);
        Assert.Equal(3000, room.HandledFrom("user1"));
        Assert.Equal(0, room.Duplicates);
        Assert.Equal(0, room.Gaps);
        Assert.Equal(1, Volatile.Read(ref dropped));

        // Raised on the reconnecting task after the resume, as documented: on a busy machine, after the last reply.
        await resumedOnce.Task.Within();
        Assert.Equal(1, Volatile.Read(ref resumed));
        Assert.Equal(1, client.ResumeCount);
        Assert.Equal(0, room.Leaves);
        Assert.Equal(1, room.EnteredCount("user1"));
    }

    [Fact]
    public async Task AReceiveBlockingInProgressGetsItsMessageAfterTheResumeAndSendsMeanwhileGoOut()
    {
        var room = new ResumeRoom { SendOnDrop = 1 };
        await using TestServer server = await ResumeExchange.StartServerAsync(room);
        await using var proxy = new FaultProxy(server.Port);
        await using Client client = ResumeExchange.CreateClient(server, proxy.Port, "user1", configure: o => o.ReconnectDelay = o.MaxReconnectDelay = TimeSpan.FromMilliseconds(300));
        await client.ConnectAsync().Within();
        client.ReceiveBlocking<Example.ServerReady>(TimeSpan.FromSeconds(10));

        Task<IMessage> receiving = Task.Run(() => client.ReceiveBlocking(TimeSpan.FromSeconds(20)));
        proxy.BreakAll(FaultKind.Reset);
        await room.FirstDrop.Task.Within();
        client.Send(new Numbered(0));

        // What the room sent while the user was away, then the answer to what the client sent meanwhile.
        Assert.Equal(new NumberedReply(-1), await receiving.Within(TimeSpan.FromSeconds(20)));
        Assert.Equal(new NumberedReply(0), await client.ReceiveAsync().AsTask().Within());
        Assert.Equal(1, room.ResumedCount);
    }

    [Fact]
    public async Task AConnectCancelledAsTheLoginIsAcceptedLeavesNoSessionBehind()
    {
        // The caller's token is cancelled on the receive loop right after the server accepted the login (in the
        // handler of the entry room's RoomChanged, which comes just after LoginAccepted): the cancellation and the
        // login's success race, as they do for a caller whose timeout fires at that moment. ConnectAsync may finish
        // (the success came first) or throw; when it throws, the session must be over on both sides: the server told
        // (the user leaves at once, not held as dropped), and the client neither connected nor resuming. Which comes
        // first is up to the thread pool: new users are tried until one connect is cancelled.
        var room = new ResumeRoom();
        await using TestServer server = await ResumeExchange.StartServerAsync(room);
        int cancelled = 0;
        for (int i = 0; i < 50 && cancelled == 0; i++)
        {
            string user = "user" + i;
            await using Client client = ResumeExchange.CreateClient(server, server.Port, user);
            using var cancel = new CancellationTokenSource();
            int dropped = 0;
            client.Dropped += (_, _) => Interlocked.Increment(ref dropped);
            client.RoomChanged += (_, _) => cancel.Cancel();
            try
            {
                await client.ConnectAsync(cancel.Token).Within();
                continue;
            }
            catch (OperationCanceledException)
            {
                cancelled++;
            }

            await Task.WhenAny(room.LeaveOf(user), room.FirstDrop.Task).Within();
            Assert.True(room.DroppedCount == 0, "ConnectAsync was cancelled, yet the server was left holding the session as dropped");
            Assert.True(Volatile.Read(ref dropped) == 0, "ConnectAsync was cancelled, yet the client took its connection for lost and resumed it");
            Assert.False(client.IsConnected);
        }

        Assert.True(cancelled == 1, "the cancellation never came before ConnectAsync finished, in fifty tries: nothing was tested");
    }

    [Fact]
    public async Task AServerWithResumingOffGivesAnOrdinarySessionWhichALostConnectionEnds()
    {
        var room = new ResumeRoom();
        await using TestServer server = await ResumeExchange.StartServerAsync(room, o => o.ResumeGracePeriod = TimeSpan.Zero);
        await using var proxy = new FaultProxy(server.Port);
        await using Client client = ResumeExchange.CreateClient(server, proxy.Port, "user1");
        await client.ConnectAsync().Within();
        Assert.Null(client.ResumeToken);

        proxy.BreakAll(FaultKind.Reset);

        await room.LeaveOf("user1").Within();
        Assert.Equal(0, room.DroppedCount);
        await Assert.ThrowsAsync<ConnectionClosedException>(async () =>
        {
            while (true)
            {
                await client.ReceiveAsync();
            }
        }).Within();
    }
}
