using Example;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Messages;

namespace Wevis.Runtime.Tests.Networking;

/// <summary>
/// Receiving one of several message types, against a live server, in both styles: <c>Receive…&lt;A, B&gt;</c> wants the
/// next message to be one of them (as the original's <c>receive_blocking('A', 'B')</c>), and consumes one that is
/// not; <c>WaitFor…&lt;A, B&gt;</c> takes the first that is, and leaves the others queued, in order, for later receives.
/// </summary>
public class SelectiveReceiveTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task WaitingForOneTypeInTheBlockingStyleKeepsTheMessagesBeforeItInOrder()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using Client client = await server.ConnectAsync();

        client.Send(new Numbered(0));
        client.Send(new Numbered(1));
        client.Send(new WhoAmI());
        client.Send(new Numbered(2));

        YouAre you = await Task.Run(() => client.WaitForBlocking<YouAre>(Timeout)).WaitAsync(Timeout * 2);
        Assert.Equal("michael", you.Name);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(i, (await Task.Run(() => client.ReceiveBlocking<NumberedReply>(Timeout)).WaitAsync(Timeout * 2)).Sequence);
        }
    }

    [Fact]
    public async Task WaitingForOneOfSeveralTypesInTheAsyncStyleKeepsTheOthersInOrder()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using Client client = await server.ConnectAsync();

        client.Send(new Numbered(0));
        client.Send(new WhatTimeIsIt());
        client.Send(new Numbered(1));
        client.Send(new WhoAmI());

        IMessage first = await client.WaitForAsync<YouAre, ItIs>().AsTask().WaitAsync(Timeout);
        IMessage second = await client.WaitForAsync<YouAre, ItIs, SomeFloats>().AsTask().WaitAsync(Timeout);

        Assert.IsType<ItIs>(first);
        Assert.Equal("michael", Assert.IsType<YouAre>(second).Name);
        Assert.Equal(0, (await client.ReceiveAsync<NumberedReply>().AsTask().WaitAsync(Timeout)).Sequence);
        Assert.Equal(1, (await client.WaitForAsync<NumberedReply>().AsTask().WaitAsync(Timeout)).Sequence);
    }

    [Fact]
    public async Task WaitingForSeveralTypesInTheBlockingStyleReturnsAMessageToMatchOn()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using Client client = await server.ConnectAsync();

        client.Send(new Numbered(0));
        client.Send(new WhoAmI());
        client.Send(new WhatTimeIsIt());

        string said = await Task.Run(() => client.WaitForBlocking<YouAre, ItIs>(Timeout) switch
        {
            YouAre(string name) => "you are " + name,
            ItIs => "it is some time",
            _ => "something else",
        }).WaitAsync(Timeout * 2);
        IMessage next = await Task.Run(() => client.WaitForBlocking<ItIs, YouAre, SomeFloats>(Timeout)).WaitAsync(Timeout * 2);

        Assert.Equal("you are michael", said);
        Assert.IsType<ItIs>(next);
        Assert.Equal(0, (await client.ReceiveAsync<NumberedReply>().AsTask().WaitAsync(Timeout)).Sequence);
    }

    [Fact]
    public async Task ReceivingOneOfSeveralTypesConsumesAMessageOfAnotherAndSaysWhichWereExpected()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using Client client = await server.ConnectAsync();

        client.Send(new Numbered(7));
        client.Send(new WhoAmI());
        client.Send(new Numbered(8));
        client.Send(new WhatTimeIsIt());

        UnexpectedMessageException blocking = await Assert.ThrowsAsync<UnexpectedMessageException>(
            () => Task.Run(() => client.ReceiveBlocking<YouAre, ItIs>(Timeout)).WaitAsync(Timeout * 2));
        IMessage expected = await Task.Run(() => client.ReceiveBlocking<YouAre, ItIs>(Timeout)).WaitAsync(Timeout * 2);
        UnexpectedMessageException async = await Assert.ThrowsAsync<UnexpectedMessageException>(
            () => client.ReceiveAsync<YouAre, ItIs, SomeFloats>().AsTask().WaitAsync(Timeout));
        IMessage last = await client.ReceiveAsync<YouAre, ItIs, SomeFloats>().AsTask().WaitAsync(Timeout);

        Assert.Equal(new NumberedReply(7), blocking.Received);
        Assert.Equal([typeof(YouAre), typeof(ItIs)], blocking.ExpectedTypes);
        Assert.Equal(typeof(YouAre), blocking.Expected);
        Assert.Equal($"Expected a YouAre or ItIs message but received {new NumberedReply(7)}.", blocking.Message);
        Assert.IsType<YouAre>(expected);
        Assert.Equal(new NumberedReply(8), async.Received);
        Assert.Equal($"Expected a YouAre, ItIs or SomeFloats message but received {new NumberedReply(8)}.", async.Message);
        Assert.IsType<ItIs>(last);
    }

    [Fact]
    public async Task AWaitThatTimesOutLeavesTheMessagesOfOtherTypesQueued()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using Client client = await server.ConnectAsync();
        client.Send(new Numbered(0));
        client.Send(new Numbered(1));

        TimeoutException timedOut = await Assert.ThrowsAsync<TimeoutException>(
            () => Task.Run(() => client.WaitForBlocking<ItIs, YouAre>(TimeSpan.FromMilliseconds(300))).WaitAsync(Timeout));

        Assert.Equal("No ItIs or YouAre message arrived from the server within 0.3 s (messages of other types stay queued).", timedOut.Message);
        Assert.Equal(0, (await client.ReceiveAsync<NumberedReply>().AsTask().WaitAsync(Timeout)).Sequence);
        Assert.Equal(1, (await client.ReceiveAsync<NumberedReply>().AsTask().WaitAsync(Timeout)).Sequence);
    }

    [Fact]
    public async Task ACancelledAsyncWaitLeavesTheMessagesOfOtherTypesQueued()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using Client client = await server.ConnectAsync();
        using var cancel = new CancellationTokenSource();
        client.Send(new Numbered(0));

        ValueTask<IMessage> waiting = client.WaitForAsync<ItIs, YouAre>(cancel.Token);
        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.AsTask().WaitAsync(Timeout));
        Assert.Equal(0, (await client.ReceiveAsync<NumberedReply>().AsTask().WaitAsync(Timeout)).Sequence);
    }

    [Fact]
    public async Task TheGuidesExamplesWorkAsWritten()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using Client client = await server.ConnectAsync();

        string blocking = await Task.Run(() => AskForTheTime(client)).WaitAsync(Timeout * 2);
        string async = await AskWhoAndWhenAsync(client).WaitAsync(Timeout);

        Assert.Matches(@"^Request 1 was answered; it is \d\d:\d\d$", blocking);
        Assert.Matches(@"^It is \d\d:\d\d; you are michael; request 2 was answered$", async);
    }

    /// <summary>The blocking example in docs/receiving.md.</summary>
    private static string AskForTheTime(Client client)
    {
        client.Send(new Numbered(1));
        client.Send(new WhatTimeIsIt());

        // Whatever arrives before the time stays queued, in order, for the receives after this one.
        ItIs time = client.WaitForBlocking<ItIs>(TimeSpan.FromSeconds(5));
        NumberedReply earlier = client.ReceiveBlocking<NumberedReply>(TimeSpan.FromSeconds(5));
        return $"Request {earlier.Sequence} was answered; it is {time.Hours:00}:{time.Minutes:00}";
    }

    /// <summary>The async example in docs/receiving.md.</summary>
    private static async Task<string> AskWhoAndWhenAsync(Client client, CancellationToken cancellationToken = default)
    {
        client.Send(new Numbered(2));
        client.Send(new WhoAmI());
        client.Send(new WhatTimeIsIt());

        var answers = new List<string>();
        while (answers.Count < 2)
        {
            switch (await client.WaitForAsync<YouAre, ItIs>(cancellationToken))
            {
                case YouAre(string name):
                    answers.Add($"you are {name}");
                    break;
                case ItIs(int hours, int minutes):
                    answers.Add($"It is {hours:00}:{minutes:00}");
                    break;
            }
        }

        NumberedReply earlier = await client.ReceiveAsync<NumberedReply>(cancellationToken);
        return $"{answers[1]}; {answers[0]}; request {earlier.Sequence} was answered";
    }
}
