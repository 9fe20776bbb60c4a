using Wevis.Sessions;
using System.Net;
using Microsoft.Extensions.Logging;
using Wevis.Protocol;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Networking;
using Xunit.Abstractions;

namespace Wevis.Runtime.Tests.Reliability;

/// <summary>
/// Credentials: salts are fresh and random for every connection; a failed login says nothing about whether the
/// user exists or is online; repeated failures from one address are refused for a while, by default.
/// </summary>
public class LoginSecurityTests(ITestOutputHelper output)
{
    private const string Throttled = "Too many failed logins from this address; try again later.";
    private const string Generic = "Unknown user or wrong password.";

    [Fact]
    public async Task EveryConnectionGetsItsOwnSalt()
    {
        await using TestServer server = await TestServer.StartAsync();
        RawPeer[] peers = [.. Enumerable.Range(0, 200).Select(_ => server.CreateRawPeer())];
        string[] salts = [.. (await Task.WhenAll(peers.Select(p => p.ReceiveAsync())).Within()).Select(m => Assert.IsType<Welcome>(m).Salt)];

        Assert.Equal(200, salts.Distinct().Count());
        Assert.All(salts, s => Assert.Matches("^[0-9a-f]{32}$", s));
        foreach (RawPeer peer in peers)
        {
            peer.Dispose();
        }
    }

    [Fact]
    public void EveryBitOfASaltIsAsLikelyOneAsZero()
    {
        // A salt made from a clock or a counter has bits that barely change; 4096 salts put every one of the
        // 128 bit positions within 6 standard deviations (192) of half ones, unless the source is not random.
        const int samples = 4096;
        int[] ones = new int[128];
        for (int i = 0; i < samples; i++)
        {
            byte[] salt = Convert.FromHexString(Credentials.NewSalt());
            for (int bit = 0; bit < 128; bit++)
            {
                ones[bit] += (salt[bit / 8] >> (bit % 8)) & 1;
            }
        }

        Assert.All(ones, count => Assert.InRange(count, (samples / 2) - 192, (samples / 2) + 192));
    }

    [Fact]
    public void VerifyWithNoSuchUserDoesTheSameWorkAndSaysNo()
    {
        string salt = Credentials.NewSalt();
        string received = Credentials.Encrypt("guess", salt);

        Assert.False(Credentials.Verify(Credentials.Encrypt(string.Empty, salt), expectedPassword: null, salt));
        Assert.False(Credentials.Verify("anything", expectedPassword: null, salt));
        Assert.True(Credentials.Verify(Credentials.Encrypt("pw", salt), "pw", salt));

        // The same work as for a user whose password is empty: a hash computed, hexed and compared, seen in what
        // it allocates (a shortcut for an unknown user would allocate next to nothing).
        Assert.Equal(AllocatedBy(() => Credentials.Verify(received, string.Empty, salt)), AllocatedBy(() => Credentials.Verify(received, expectedPassword: null, salt)));
        Assert.True(AllocatedBy(() => Credentials.Verify(received, expectedPassword: null, salt)) >= 64 + 128, "no hash was computed for an unknown user");

        static long AllocatedBy(Func<bool> verify)
        {
            verify();
            long before = GC.GetAllocatedBytesForCurrentThread();
            verify();
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
    }

    [Fact]
    public async Task AFailedLoginLooksTheSameWhetherTheUserExistsOrIsOnline()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using Client online = await server.ConnectAsync("michael", "mypassword");

        List<IMessage> unknown = await FailedLoginAsync(server, "nobody", "guess");
        List<IMessage> offline = await FailedLoginAsync(server, "user5", "guess");
        List<IMessage> whileOnline = await FailedLoginAsync(server, "michael", "guess");

        Assert.Equal([new LoginRejected(Generic)], unknown);
        Assert.Equal(unknown, offline);
        Assert.Equal(unknown, whileOnline);
        Assert.True(online.IsConnected);
    }

    [Fact]
    public async Task RepeatedFailuresFromOneAddressAreRefusedUntilTheWindowPasses()
    {
        TimeSpan window = new ServerOptions().FailedLoginWindow;
        int validations = 0;
        var clock = new TestClock();
        await using TestServer server = await TestServer.StartAsync(
            o => o.MaxFailedLoginsPerAddress = 3,
            validator: (username, password, salt, version, _) =>
            {
                Interlocked.Increment(ref validations);
                return ValueTask.FromResult(TestServer.Validate(username, password, salt, version));
            },
            clock: clock);

        for (int i = 0; i < 3; i++)
        {
            Assert.Equal([new LoginRejected(Generic)], await FailedLoginAsync(server, "michael", $"guess{i}"));
        }

        // Now even the right password is refused, without asking the validator, and the refusal is the same for
        // every user name: it says nothing about the account.
        Assert.Equal([new LoginRejected(Throttled)], await FailedLoginAsync(server, "michael", "mypassword"));
        Assert.Equal([new LoginRejected(Throttled)], await FailedLoginAsync(server, "nobody", "guess"));
        Assert.Equal(3, validations);
        LogEntry warning = await server.Log.WaitForAsync(e => e.Level == LogLevel.Warning && e.EventId.Id == 23);
        Assert.Contains("127.0.0.1", warning.Message, StringComparison.Ordinal);

        // Another address is not affected.
        using (RawPeer elsewhere = RawPeer.Connect(server.Port, from: IPAddress.Parse("127.0.0.2")))
        {
            Assert.IsType<LoginAccepted>(await elsewhere.LoginAsync().Within());
        }

        // The window counts from the first failure: refused until it has passed, then the address may try again.
        clock.Advance(window - TimeSpan.FromMilliseconds(1));
        Assert.Equal([new LoginRejected(Throttled)], await FailedLoginAsync(server, "michael", "mypassword"));
        Assert.Equal(4, validations);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        await using Client later = await server.ConnectAsync();
        Assert.True(later.IsConnected);
        Assert.Equal(5, validations);
        output.WriteLine(warning.Message);
    }

    [Fact]
    public async Task LoginsSentAtOnceFromOneAddressReachTheValidatorNoMoreOftenThanTheThrottleAllows()
    {
        var clock = new TestClock();
        var answer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int validations = 0;
        await using TestServer server = await TestServer.StartAsync(
            o => o.MaxFailedLoginsPerAddress = 3,
            validator: async (_, _, _, _, _) =>
            {
                Interlocked.Increment(ref validations);
                await answer.Task;
                return LoginResult.Reject(Generic);
            },
            clock: clock);

        RawPeer[] peers = [.. Enumerable.Range(0, 10).Select(_ => server.CreateRawPeer())];
        try
        {
            foreach (RawPeer peer in peers)
            {
                var welcome = Assert.IsType<Welcome>(await peer.ReceiveAsync().Within());
                await peer.SendAsync(new Login("michael", Credentials.Encrypt($"guess{Array.IndexOf(peers, peer)}", welcome.Salt), TestServer.Version, WevisRegistry.Messages.Fingerprint)).Within();
            }

            // Every login is being decided: each connection's login timeout (started at the accept) and each
            // login's own (started as the server began to decide it, before the throttle had its say) are running.
            await clock.WaitForTimersAsync(new ServerOptions().LoginTimeout, count: 2 * peers.Length, what: "the login timeouts of the connections and of their logins");
            answer.SetResult();
            List<IMessage>[] received = await Task.WhenAll(peers.Select(p => p.ReceiveUntilClosedAsync())).Within();

            Assert.Equal(3, validations);
            Assert.Equal(3, received.Count(r => r.SequenceEqual([new LoginRejected(Generic)])));
            Assert.Equal(7, received.Count(r => r.SequenceEqual([new LoginRejected(Throttled)])));
        }
        finally
        {
            foreach (RawPeer peer in peers)
            {
                peer.Dispose();
            }
        }
    }

    [Fact]
    public async Task ALoginWaitingForTheThrottleEndsWithItsConnectionsLoginClockAndNeverReachesTheValidator()
    {
        // One attempt at a time from this address: "ada"'s login holds it while "bob"'s waits for it. Bob's
        // connection runs out of login time meanwhile (its clock runs from the accept, before his login arrived):
        // his login is over then, and must not take the attempt (holding up the address's next login) and reach
        // the validator for a connection that is already closed.
        var clock = new TestClock();
        var adaChecked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var adaAnswer = new TaskCompletionSource<LoginResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var validated = new System.Collections.Concurrent.ConcurrentQueue<string>();
        TimeSpan loginTimeout = new ServerOptions().LoginTimeout;
        await using TestServer server = await TestServer.StartAsync(
            o => o.MaxFailedLoginsPerAddress = 1,
            validator: (name, _, _, _, _) =>
            {
                validated.Enqueue(name);
                if (name == "ada")
                {
                    adaChecked.TrySetResult();
                    return new ValueTask<LoginResult>(adaAnswer.Task);
                }

                return ValueTask.FromResult(LoginResult.Reject(Generic));
            },
            clock: clock);

        using RawPeer bob = server.CreateRawPeer();
        var bobWelcome = Assert.IsType<Welcome>(await bob.ReceiveAsync().Within());
        await clock.WaitForTimersAsync(loginTimeout, count: 1, what: "bob's connection's login timeout");
        clock.Advance(TimeSpan.FromSeconds(1));

        using RawPeer ada = server.CreateRawPeer();
        var adaWelcome = Assert.IsType<Welcome>(await ada.ReceiveAsync().Within());
        await ada.SendAsync(new Login("ada", Credentials.Encrypt("x", adaWelcome.Salt), TestServer.Version, WevisRegistry.Messages.Fingerprint)).Within();
        await adaChecked.Task.Within();
        clock.Advance(TimeSpan.FromSeconds(1));

        await bob.SendAsync(new Login("bob", Credentials.Encrypt("x", bobWelcome.Salt), TestServer.Version, WevisRegistry.Messages.Fingerprint)).Within();
        await clock.WaitForTimersAsync(loginTimeout, count: 4, what: "both connections' login timeouts and both logins' own");

        // Bob's connection's login time runs out (5 s after its accept; his login's own would run 2 s longer).
        clock.Advance(loginTimeout - TimeSpan.FromSeconds(2));
        List<IMessage> bobReceived = await bob.ReceiveUntilClosedAsync().Within();
        Assert.Equal(new Closing("did not log in within 5 s"), bobReceived[^1]);

        // Ada's check ends; the attempt she held is free.
        adaAnswer.SetResult(LoginResult.Accept(new User("ada")));
        Assert.IsType<LoginAccepted>(await ada.ReceiveAsync().Within());
        await server.Log.WaitForAsync(e => e.EventId.Id == 11);

        Assert.Equal(["ada"], validated.ToArray());
    }

    [Fact]
    public async Task TheThrottleIsOnByDefault()
    {
        var defaults = new ServerOptions();
        Assert.Equal(10, defaults.MaxFailedLoginsPerAddress);
        Assert.Equal(TimeSpan.FromMinutes(1), defaults.FailedLoginWindow);

        await using TestServer server = await TestServer.StartAsync();
        for (int i = 0; i < defaults.MaxFailedLoginsPerAddress; i++)
        {
            Assert.Equal([new LoginRejected(Generic)], await FailedLoginAsync(server, "michael", $"guess{i}"));
        }

        Assert.Equal([new LoginRejected(Throttled)], await FailedLoginAsync(server, "michael", "mypassword"));
    }

    [Fact]
    public async Task TheThrottleCanBeTurnedOff()
    {
        await using TestServer server = await TestServer.StartAsync(o => o.MaxFailedLoginsPerAddress = 0);
        for (int i = 0; i < 25; i++)
        {
            Assert.Equal([new LoginRejected(Generic)], await FailedLoginAsync(server, "michael", $"guess{i}"));
        }

        await using Client client = await server.ConnectAsync();
        Assert.True(client.IsConnected);
    }

    [Fact]
    public void AFloodOfAddressesCannotGrowTheThrottleOrLiftARefusal()
    {
        var throttle = new LoginThrottle(3, TimeSpan.FromMinutes(1), TimeProvider.System);
        IPAddress attacker = IPAddress.Parse("192.0.2.1");
        for (int i = 0; i < 3; i++)
        {
            throttle.RecordFailure(attacker);
        }

        for (int i = 0; i < 50_000; i++)
        {
            throttle.RecordFailure(new IPAddress([10, (byte)(i >> 16), (byte)(i >> 8), (byte)i]));
        }

        Assert.Equal(LoginThrottle.MaxTrackedAddresses, throttle.TrackedAddresses);
        Assert.True(throttle.IsRefused(attacker));
    }

    [Fact]
    public void AnIpv6HostCannotDodgeTheThrottleByChangingItsInterfaceId()
    {
        var throttle = new LoginThrottle(3, TimeSpan.FromMinutes(1), TimeProvider.System);
        throttle.RecordFailure(IPAddress.Parse("2001:db8:1:2::1"));
        throttle.RecordFailure(IPAddress.Parse("2001:db8:1:2::2"));
        Assert.True(throttle.RecordFailure(IPAddress.Parse("2001:db8:1:2:abcd::3")));

        Assert.True(throttle.IsRefused(IPAddress.Parse("2001:db8:1:2:ffff:ffff:ffff:ffff")));
        Assert.False(throttle.IsRefused(IPAddress.Parse("2001:db8:1:3::1")));

        // An IPv4 client of a dual-mode listener counts as its IPv4 address.
        throttle.RecordFailure(IPAddress.Parse("::ffff:192.0.2.7"));
        throttle.RecordFailure(IPAddress.Parse("192.0.2.7"));
        throttle.RecordFailure(IPAddress.Parse("::ffff:192.0.2.7"));
        Assert.True(throttle.IsRefused(IPAddress.Parse("192.0.2.7")));
    }

    /// <summary>Logs in by hand with a password that fails (or is refused); returns every message the server sent until it closed.</summary>
    private static async Task<List<IMessage>> FailedLoginAsync(TestServer server, string username, string password)
    {
        using RawPeer peer = server.CreateRawPeer();
        var welcome = Assert.IsType<Welcome>(await peer.ReceiveAsync().Within());
        await peer.SendAsync(new Login(username, Credentials.Encrypt(password, welcome.Salt), TestServer.Version, WevisRegistry.Messages.Fingerprint)).Within();
        return await peer.ReceiveUntilClosedAsync().Within();
    }
}
