using Example;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Testing;

namespace Wevis.Runtime.Tests.Testing;

/// <summary>Wevis.Testing's in-memory server and waits: the fake clock drives the server's timeouts, and a wait names what did not come.</summary>
public class InMemoryServerTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ALoginStillBeingCheckedWhenTheFakeClockPassesTheLoginTimeoutIsClosedWithTheReason()
    {
        var checking = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        AsyncLoginValidator slow = async (_, _, _, _, cancellationToken) =>
        {
            checking.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return "unreachable";
        };
        await using var server = InMemoryServer.Start(slow, new TimeRoom(), new ServerOptions { LoginTimeout = TimeSpan.FromMinutes(5) });
        await using Client client = server.CreateClient("michael", "mypassword", TestServer.Version);
        Task connecting = client.ConnectAsync();
        await checking.Task.WaitAsync(Bound);

        // Five minutes of the server's clock, in no time: the login is out of time.
        server.Clock.Advance(TimeSpan.FromMinutes(5));
        ConnectionFailedException failed = await Assert.ThrowsAsync<ConnectionFailedException>(() => connecting.WaitAsync(Bound));
        Assert.Contains("did not log in within 300 s", failed.Message);
        await Networking.ExampleExchangeTests.WaitUntilAsync(() => server.Server.ConnectionCount == 0);
    }

    [Fact]
    public async Task WaitForKeepsOtherMessagesQueuedAndATimeoutNamesTheTypeThatDidNotCome()
    {
        await using var server = InMemoryServer.Start(TestServer.Validate, new TimeRoom());
        await using Client client = await server.ConnectAsync("michael", "mypassword", TestServer.Version).WaitAsync(Bound);
        client.Send(new WhoAmI());
        client.Send(new WhatTimeIsIt());

        // The ItIs is taken; the room's welcome and the YouAre that came before it stay queued, in order.
        await client.WaitForAsync<ItIs>(Bound);
        await client.ReceiveAsync<ServerReady>(Bound);
        Assert.Equal("michael", (await client.ReceiveAsync<YouAre>(Bound)).Name);

        TimeoutException late = await Assert.ThrowsAsync<TimeoutException>(() => client.WaitForAsync<SomeFloats>(TimeSpan.FromMilliseconds(100)));
        Assert.Equal("No SomeFloats arrived within 0.1 s.", late.Message);

        // The wait gave up cleanly: the client receives on.
        client.Send(new WhoAmI());
        Assert.Equal("michael", (await client.ReceiveAsync<YouAre>(Bound)).Name);
    }

    [Fact]
    public async Task AConnectionTheServerClosesEndsGracefullyInMemoryWithTheReasonAfterWhatWasQueued()
    {
        var room = new TimeRoom();
        await using var server = InMemoryServer.Start(TestServer.Validate, room);
        await using Client client = await server.ConnectAsync("michael", "mypassword", TestServer.Version).WaitAsync(Bound);
        await client.ReceiveAsync<ServerReady>(Bound);
        client.Send(new PleaseMayIHaveSomeFloats(0, 100_000));
        await room.FloatsQueued.Task.WaitAsync(Bound);
        room.Connections[0].Close("enough for today");

        // The big reply was queued first: it arrives whole, then the reason.
        Assert.Equal(100_000, (await client.ReceiveAsync<SomeFloats>(Bound)).Doubles.Length);
        Assert.Equal("the server closed the connection: enough for today", await client.WaitForCloseAsync(Bound));
        await room.FirstLeave.Task.WaitAsync(Bound);
    }
}
