using Example;
using Microsoft.Extensions.Logging;
using Wevis.Protocol;
using Wevis.Runtime.Tests.Infrastructure;

namespace Wevis.Runtime.Tests.Reliability;

/// <summary>
/// The frame size limits as settings: sending a message over <see cref="ServerOptions.MaxFrameSize"/> (or
/// <see cref="ClientOptions.MaxFrameSize"/>) is the sender's error, not a frame on the wire; and a non-default
/// <see cref="ServerOptions.MaxLoginFrameSize"/> is the limit before the login, both ways.
/// </summary>
public class FrameLimitTests
{
    private const int MaxFrameSize = 64 * 1024;

    /// <summary>10,000 doubles: a SomeFloats of 80,013 bytes (the doubles, an empty bin, headers), over <see cref="MaxFrameSize"/>.</summary>
    private const int TooManyDoubles = 10_000;

    [Fact]
    public async Task SendingAMessageOverMaxFrameSizeThrowsOnTheServerAndTheClientAndTheConnectionLivesOn()
    {
        await using TestServer server = await TestServer.StartAsync(o =>
        {
            o.MaxFrameSize = MaxFrameSize;
            o.MaxQueuedBytesPerConnection = 1024 * 1024;
        });
        await using Client client = server.CreateClient(configure: o => o.MaxFrameSize = MaxFrameSize);
        await client.ConnectAsync().Within();
        await client.ReceiveAsync<ServerReady>().Within();

        // The client: an ArgumentException, and nothing is sent.
        ArgumentException ex = Assert.Throws<ArgumentException>(() => client.Send(new SomeFloats([], new double[TooManyDoubles])));
        Assert.StartsWith($"The SomeFloats message is {8 * TooManyDoubles + 13} bytes, over the frame limit of {MaxFrameSize} bytes", ex.Message, StringComparison.Ordinal);

        // The server: the room's reply throws in the handler (logged), and the connection carries on.
        client.Send(new PleaseMayIHaveSomeFloats(0, TooManyDoubles));
        client.Send(new WhoAmI());
        Assert.Equal(new YouAre("michael"), await client.ReceiveAsync().Within());
        LogEntry failed = await server.Log.WaitForAsync(e => e.EventId.Id == 30);
        Assert.IsType<ArgumentException>(failed.Exception);
        Assert.StartsWith($"The SomeFloats message is {8 * TooManyDoubles + 13} bytes, over the frame limit of {MaxFrameSize} bytes", failed.Exception!.Message, StringComparison.Ordinal);
        Assert.True(client.IsConnected, client.CloseReason);
        Assert.DoesNotContain(server.Log.Entries, e => e.EventId.Id == 12);
    }

    [Fact]
    public async Task ANonDefaultMaxLoginFrameSizeIsTheLimitBeforeTheLoginBothWays()
    {
        const int limit = 8 * 1024;
        await using TestServer server = await TestServer.StartAsync(o => o.MaxLoginFrameSize = limit);

        // A 6 KB login, over the default 4 KiB but under this limit, is read (and its unknown user refused).
        using (RawPeer peer = server.CreateRawPeer())
        {
            Assert.Equal(new LoginRejected("Unknown user or wrong password."), await peer.LoginAsync(new string('x', 6 * 1024), "pw").Within());
        }

        // One byte over this limit is a protocol violation, though far under MaxFrameSize.
        using (RawPeer peer = server.CreateRawPeer())
        {
            Assert.IsType<Welcome>(await peer.ReceiveAsync().Within());
            await peer.SendRawAsync(RawPeerFaults.Prefixed(limit + 1, new byte[100])).Within();
            Assert.Equal([new Closing($"Received a frame of {limit + 1} bytes, over the limit of {limit} bytes.")], await peer.ReceiveUntilClosedAsync().Within());
        }

        await server.Log.WaitForAsync(e => e.Level == LogLevel.Warning && e.EventId.Id == 12 && e.Message.Contains($"over the limit of {limit} bytes", StringComparison.Ordinal));
    }
}
