using System.Runtime.CompilerServices;
using Example;
using Wevis.Runtime.Tests.Infrastructure;

namespace Wevis.Runtime.Tests.Networking;

/// <summary>The original example's exchange, end to end over 127.0.0.1, in both client styles.</summary>
public class ExampleExchangeTests
{
    [Fact]
    public async Task BlockingStyle()
    {
        await using TestServer server = await TestServer.StartAsync();
        await Task.Run(() =>
        {
            using Client client = server.CreateClient();
            client.StartBlocking();
            client.ReceiveBlocking<ServerReady>(TimeSpan.FromSeconds(10));

            client.Send(new WhoAmI());
            Assert.Equal("michael", client.ReceiveBlocking<YouAre>(TimeSpan.FromSeconds(10)).Name);

            DateTime before = DateTime.Now;
            client.Send(new WhatTimeIsIt());
            ItIs time = client.ReceiveBlocking<ItIs>(TimeSpan.FromSeconds(10));
            DateTime after = DateTime.Now;
            Assert.Contains((time.Hours, time.Minutes), new[] { (before.Hour, before.Minute), (after.Hour, after.Minute) });

            client.Send(new PleaseMayIHaveSomeFloats(3, 4));
            SomeFloats floats = client.ReceiveBlocking<SomeFloats>(TimeSpan.FromSeconds(10));
            Assert.Equal([0f, 0.1f, 0.2f], floats.Singles);
            Assert.Equal([0, 0.1, 0.2, 0.30000000000000004], floats.Doubles);
        }).Within();
    }

    [Fact]
    public async Task AsyncStyle()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using Client client = server.CreateClient();
        await client.ConnectAsync().Within();
        Assert.True(client.IsConnected);
        await client.ReceiveAsync<ServerReady>().Within();

        client.Send(new WhoAmI());
        client.Send(new PleaseMayIHaveSomeFloats(0, 2));
        Assert.Equal(new YouAre("michael"), await client.ReceiveAsync().Within());
        Assert.Equal(new SomeFloats([], [0, 0.1]), await client.ReceiveAsync<SomeFloats>().Within());

        client.Send(new WhatTimeIsIt());
        await foreach (IMessage message in client.ReadAllAsync())
        {
            Assert.IsType<ItIs>(message);
            break;
        }
    }

    [Fact]
    public async Task ReceivingTheWrongTypeNamesBothTypes()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using Client client = await server.ConnectAsync();

        client.Send(new WhoAmI());
        UnexpectedMessageException ex = await Assert.ThrowsAsync<UnexpectedMessageException>(async () => await client.ReceiveAsync<ItIs>()).Within();

        Assert.Equal(typeof(ItIs), ex.Expected);
        Assert.Equal(new YouAre("michael"), ex.Received);
        Assert.Contains("Expected a ItIs message but received YouAre { Name = \"michael\" }", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BlockingReceiveTimesOutAndTryReceiveDoesNotWait()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using Client client = await server.ConnectAsync();

        Assert.False(client.TryReceive(out _));
        Assert.Throws<TimeoutException>(() => client.ReceiveBlocking(TimeSpan.FromMilliseconds(100)));

        client.Send(new WhoAmI());
        Assert.IsType<YouAre>(await client.ReceiveAsync().Within());
        client.Send(new WhoAmI());
        IMessage? received = null;
        await WaitUntilAsync(() => client.TryReceive(out received));
        Assert.IsType<YouAre>(received);
    }

    [Fact]
    public async Task UsingAClientBeforeItHasLoggedInIsAnError()
    {
        await using TestServer server = await TestServer.StartAsync();
        using Client client = server.CreateClient();

        Assert.Throws<InvalidOperationException>(() => client.Send(new WhoAmI()));
        Assert.Throws<InvalidOperationException>(() => client.ReceiveBlocking());
    }

    [Fact]
    public async Task SendingAMessageOutsideTheRegistryIsAnError()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using Client client = await server.ConnectAsync();

        ArgumentException ex = Assert.Throws<ArgumentException>(() => client.Send(new Stranger()));
        Assert.Contains("Stranger", ex.Message, StringComparison.Ordinal);
        Assert.Contains("is not one of this connection's message types", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>A message type no registry knows.</summary>
    private sealed class Stranger : IClientMessage
    {
        public MessageDescriptor Descriptor { get; } = new StrangerDescriptor();

        private sealed class StrangerDescriptor() : MessageDescriptor("Stranger", 42, typeof(Stranger), [])
        {
            public override void Write(ref MessagePack.MessagePackWriter writer, IMessage message) => writer.WriteArrayHeader(1);

            public override IMessage ReadArguments(ref MessagePack.MessagePackReader reader) => new Stranger();
        }
    }

    internal static async Task WaitUntilAsync(Func<bool> condition, TimeSpan? timeout = null, [CallerArgumentExpression(nameof(condition))] string what = "")
    {
        // For state that has no event to wait on; bounded and short-stepped, used only in tests.
        TimeSpan limit = timeout ?? Bounded.DefaultTimeout;
        DateTime deadline = DateTime.UtcNow + limit;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Waited {limit.TotalSeconds:0.###} s for {what} to become true; it did not.");
            await Task.Delay(10);
        }
    }
}
