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
