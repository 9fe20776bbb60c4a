using Wevis.Runtime.Tests.Infrastructure;

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
        client.Resumed += (_, _) => Interlocked.Increment(ref resumed);
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
        Assert.Equal(1, Volatile.Read(ref resumed));
        Assert.Equal(1, client.ResumeCount);
        Assert.Equal(0, room.Leaves);
        Assert.Equal(1, room.EnteredCount("user1"));
    }
}
