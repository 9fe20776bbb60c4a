using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using TimeMessages;
using TimeServer;
using Wevis.Testing;

namespace Wevis.Samples.Tests;

/// <summary>
/// The time server's room and login check, in memory (Wevis.Testing) on a fake clock: answers, refusals, and the
/// keep-alive that would take fifteen seconds on a real clock.
/// </summary>
public class TimeSampleRoomTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task EachUserIsGreetedThenToldTheirNameTheTimeAndTheFloatsTheyAskFor()
    {
        await using InMemoryServer server = Start();
        await using Client client = await ConnectAsync(server);

        client.Send(new WhoAmI());
        Assert.Equal("michael", (await client.ReceiveAsync<YouAre>(Bound)).Name);

        DateTime before = DateTime.Now;
        client.Send(new WhatTimeIsIt());
        ItIs time = await client.ReceiveAsync<ItIs>(Bound);
        DateTime after = DateTime.Now;
        Assert.Contains((time.Hours, time.Minutes), new[] { (before.Hour, before.Minute), (after.Hour, after.Minute) });

        client.Send(new PleaseMayIHaveSomeFloats(3, 5));
        SomeFloats floats = await client.ReceiveAsync<SomeFloats>(Bound);
        Assert.Equal([0f, 0.1f, 0.2f], floats.Singles);
        Assert.Equal([0, 0.1, 0.2, 0.3, 0.4], floats.Doubles);
    }

    [Theory]
    [InlineData("michael", "wrong", TimeProtocol.Version, "Unknown user or wrong password.")]
    [InlineData("someone", TimeProtocol.DefaultPassword, TimeProtocol.Version, "Unknown user or wrong password.")]
    [InlineData("michael", TimeProtocol.DefaultPassword, "0.9", "This server speaks version 1.0.0; the client is version 0.9.")]
    public async Task AWrongPasswordUserOrVersionIsRejectedWithTheSamplesReason(string user, string password, string version, string reason)
    {
        await using InMemoryServer server = Start();
        LoginRejectedException rejected = await Assert.ThrowsAsync<LoginRejectedException>(() => server.ConnectAsync(user, password, version, new ClientOptions { Messages = TimeMessages.WevisRegistry.Messages }).WaitAsync(Bound));
        Assert.Equal(reason, rejected.Reason);
    }

    [Fact]
    public async Task AskingForTooManyFloatsClosesTheConnectionWithTheReason()
    {
        await using InMemoryServer server = Start();
        await using Client client = await ConnectAsync(server);
        client.Send(new PleaseMayIHaveSomeFloats(TimeRoom.MaxFloats, 1));
        Assert.Contains($"at most {TimeRoom.MaxFloats} floats in all", await client.WaitForCloseAsync(Bound));
    }

    [Fact]
    public async Task AQuietUserIsPingedWhenTheServersClockHasMovedOnAndStaysConnected()
    {
        var log = new PingWatcher();
        await using InMemoryServer server = Start(new ServerOptions { LoggerFactory = log, PingInterval = TimeSpan.FromSeconds(10), PingTimeout = TimeSpan.FromSeconds(5) });
        await using Client client = await ConnectAsync(server);

        // Ten seconds of quiet on the server's clock: a ping, which the client answers by itself.
        server.Clock.Advance(TimeSpan.FromSeconds(11));
        await log.Pinged.Task.WaitAsync(Bound);

        // Past the ping's timeout: still connected, because the answer came.
        client.Send(new WhoAmI());
        Assert.Equal("michael", (await client.ReceiveAsync<YouAre>(Bound)).Name);
        server.Clock.Advance(TimeSpan.FromSeconds(6));
        client.Send(new WhoAmI());
        Assert.Equal("michael", (await client.ReceiveAsync<YouAre>(Bound)).Name);
        Assert.True(client.IsConnected);
        Assert.Equal(1, server.Server.ConnectionCount);
    }

    private static InMemoryServer Start(ServerOptions? options = null)
    {
        options ??= new ServerOptions();
        options.Messages = TimeMessages.WevisRegistry.Messages;
        return InMemoryServer.Start(TimeLogin.Validator(TimeProtocol.DefaultUser, TimeProtocol.DefaultPassword), new TimeRoom(), options);
    }

    private static async Task<Client> ConnectAsync(InMemoryServer server)
    {
        Client client = await server.ConnectAsync(TimeProtocol.DefaultUser, TimeProtocol.DefaultPassword, TimeProtocol.Version, new ClientOptions { Messages = TimeMessages.WevisRegistry.Messages })
            .WaitAsync(Bound);
        await client.ReceiveAsync<ServerReady>(Bound);
        return client;
    }

    /// <summary>A logger factory that completes <see cref="Pinged"/> when the server logs a ping.</summary>
    private sealed class PingWatcher : ILoggerFactory, ILogger
    {
        public TaskCompletionSource Pinged { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ConcurrentQueue<string> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => this;

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            string line = formatter(state, exception);
            Lines.Enqueue(line);
            if (line.StartsWith("Pinged connection", StringComparison.Ordinal))
            {
                Pinged.TrySetResult();
            }
        }
    }
}
