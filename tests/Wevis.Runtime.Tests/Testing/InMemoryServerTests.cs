using System.Net.Security;
using System.Reflection;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Example;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Wevis.Runtime.Tests.Diagnostics;
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

    [Fact]
    public async Task TwoServersGivenTheSameOptionsEachRunOnItsOwnClock()
    {
        var checking = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        AsyncLoginValidator slow = async (_, _, _, _, cancellationToken) =>
        {
            checking.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return "unreachable";
        };
        var options = new ServerOptions { LoginTimeout = TimeSpan.FromMinutes(5) };
        await using var first = InMemoryServer.Start(slow, new TimeRoom(), options);
        await using var second = InMemoryServer.Start(slow, new TimeRoom(), options);
        await using Client client = second.CreateClient("michael", "mypassword", TestServer.Version);
        Task connecting = client.ConnectAsync();
        await checking.Task.WaitAsync(Bound);

        // Five minutes of the second server's own clock: its login is out of time.
        second.Clock.Advance(TimeSpan.FromMinutes(5));
        ConnectionFailedException failed = await Assert.ThrowsAsync<ConnectionFailedException>(() => connecting.WaitAsync(Bound));
        Assert.Contains("did not log in within 300 s", failed.Message);

        // The options given are left as they were, for the next server.
        Assert.Same(TimeProvider.System, options.TimeProvider);
    }

    [Fact]
    public async Task ClientsOfTwoServersGivenTheSameOptionsEachConnectToTheirOwnServer()
    {
        var options = new ClientOptions();
        LoginValidator refuseAll = (_, _, _, _) => "This server lets no one in.";
        await using var accepting = InMemoryServer.Start(TestServer.Validate, new TimeRoom());
        await using var refusing = InMemoryServer.Start(refuseAll, new TimeRoom());
        await using Client first = accepting.CreateClient("michael", "mypassword", TestServer.Version, options);
        await using Client second = refusing.CreateClient("michael", "mypassword", TestServer.Version, options);

        // The first client, made on the accepting server, logs in there; the second is refused by its own.
        await first.ConnectAsync().WaitAsync(Bound);
        await first.ReceiveAsync<ServerReady>(Bound);
        LoginRejectedException refused = await Assert.ThrowsAsync<LoginRejectedException>(() => second.ConnectAsync().WaitAsync(Bound));
        Assert.Equal("This server lets no one in.", refused.Reason);
    }

    [Fact]
    public void EverySettingOfTheOptionsIsCopied()
    {
        AssertEverySettingIsCopied(new ServerOptions(), OptionsCopies.Copy);
        AssertEverySettingIsCopied(new ClientOptions(), OptionsCopies.Copy);
    }

    /// <summary>Sets every setting of <paramref name="options"/> (public or not) away from its default, and checks the copy has each.</summary>
    private static void AssertEverySettingIsCopied<T>(T options, Func<T, T> copy)
        where T : new()
    {
        PropertyInfo[] settings = [.. typeof(T).GetProperties(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic).Where(p => p.CanRead && p.CanWrite)];
        Assert.NotEmpty(settings);
        var defaults = new T();
        for (int i = 0; i < settings.Length; i++)
        {
            object sample = SampleOf(settings[i].PropertyType, i);
            Assert.NotEqual(settings[i].GetValue(defaults), sample);
            settings[i].SetValue(options, sample);
        }

        T copied = copy(options);
        foreach (PropertyInfo setting in settings)
        {
            Assert.True(Equals(setting.GetValue(options), setting.GetValue(copied)), $"{typeof(T).Name}.{setting.Name} is not copied: add it to Wevis.Testing's OptionsCopies.");
        }
    }

    private static object SampleOf(Type type, int index) => type switch
    {
        _ when type == typeof(string) => "sample" + index,
        _ when type == typeof(int) => 10_000 + index,
        _ when type == typeof(long) => 10_000_000L + index,
        _ when type == typeof(bool) => true,
        _ when type == typeof(TimeSpan) => TimeSpan.FromSeconds(1_000 + index),
        _ when type == typeof(MessageRegistry) => MessageRegistry.Default,
        _ when type == typeof(X509Certificate2) => SelfSigned(),
        _ when type == typeof(Microsoft.Extensions.Logging.ILoggerFactory) => NullLoggerFactory.Instance,
        _ when type == typeof(System.Diagnostics.Metrics.IMeterFactory) => new TestMeterFactory(),
        _ when type == typeof(TimeProvider) => new FakeTimeProvider(),
        _ when type == typeof(IRoomStateStore) => new MemoryRoomStateStore(),
        _ when type == typeof(RemoteCertificateValidationCallback) => new RemoteCertificateValidationCallback((_, _, _, _) => true),
        _ when type == typeof(Func<CancellationToken, ValueTask<Stream>>) => new Func<CancellationToken, ValueTask<Stream>>(_ => ValueTask.FromResult(Stream.Null)),
        _ => throw new InvalidOperationException($"No sample value of {type}: add one here, so that the setting of that type is checked."),
    };

    private static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create();
        return new CertificateRequest("CN=options-copy", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));
    }
}
