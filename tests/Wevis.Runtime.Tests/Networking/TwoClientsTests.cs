using Example;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Transport;

namespace Wevis.Runtime.Tests.Networking;

/// <summary>
/// Two clients in one program, one used in the async style and one in the blocking style: code that continues
/// from one client's receive (on that client's receive loop) may send on the other client and wait for its
/// answer. The first client's loop defers only its own sends, so the request leaves at once.
/// </summary>
public class TwoClientsTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CodeOnOneClientsReceiveLoopCanAskTheOtherClientAndWaitForItsAnswer(bool swapped)
    {
        await using TestServer server = await TestServer.StartAsync();
        for (int round = 0; round < 10; round++)
        {
            await using Client first = await server.ConnectAsync("user1", "pw");
            await using Client second = await server.ConnectAsync("user2", "pw");
            (Client looping, Client blocking) = swapped ? (second, first) : (first, second);
            ItIs time = await AskOnReceiveLoopAsync(looping, blocking);
            Assert.InRange(time.Hours, 0, 23);
        }
    }

    /// <summary>
    /// Waits for <paramref name="looping"/>'s answer and, continuing on its receive loop, asks
    /// <paramref name="blocking"/> the time and blocks for the answer.
    /// </summary>
    private static async Task<ItIs> AskOnReceiveLoopAsync(Client looping, Client blocking)
    {
        using var bound = new CancellationTokenSource(Bound);

        // The continuation is attached before the answer is asked for, so it runs on the receive loop that delivers it.
        Task<ItIs> asked = AskWhenAnsweredAsync(looping.ReceiveAsync<YouAre>(bound.Token), blocking);
        looping.Send(new WhoAmI());
        return await asked.ConfigureAwait(false);
    }

    private static async Task<ItIs> AskWhenAnsweredAsync(ValueTask<YouAre> answer, Client blocking)
    {
        await answer.ConfigureAwait(false);
        Assert.NotNull(FlushBatch.Current);

        blocking.Send(new WhatTimeIsIt());
        return blocking.ReceiveBlocking<ItIs>(Bound);
    }
}
