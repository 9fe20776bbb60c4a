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
        string[] salts = [.. (await Task.WhenAll(peers.Select(p => p.ReceiveAsync()))).Select(m => Assert.IsType<Welcome>(m).Salt)];

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

        Assert.False(Credentials.Verify(Credentials.Encrypt(string.Empty, salt), expectedPassword: null, salt));
        Assert.False(Credentials.Verify("anything", expectedPassword: null, salt));
        Assert.True(Credentials.Verify(Credentials.Encrypt("pw", salt), "pw", salt));
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
        var window = TimeSpan.FromMilliseconds(1500);
        int validations = 0;
        await using TestServer server = await TestServer.StartAsync(
            o =>
            {
                o.MaxFailedLoginsPerAddress = 3;
                o.FailedLoginWindow = window;
            },
            validator: (username, password, salt, version, _) =>
            {
                Interlocked.Increment(ref validations);
                return ValueTask.FromResult(TestServer.Validate(username, password, salt, version));
            });
        DateTime windowStart = DateTime.UtcNow;

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
            Assert.IsType<LoginAccepted>(await elsewhere.LoginAsync());
        }

        // Once the window has passed, the address may try again.
        TimeSpan remaining = window - (DateTime.UtcNow - windowStart);
        await Task.Delay(remaining > TimeSpan.Zero ? remaining + TimeSpan.FromMilliseconds(100) : TimeSpan.FromMilliseconds(100));
        await using Client later = await server.ConnectAsync();
        Assert.True(later.IsConnected);
        output.WriteLine(warning.Message);
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
        var welcome = Assert.IsType<Welcome>(await peer.ReceiveAsync());
        await peer.SendAsync(new Login(username, Credentials.Encrypt(password, welcome.Salt), TestServer.Version, WevisRegistry.Messages.Fingerprint));
        return await peer.ReceiveUntilClosedAsync();
    }
}
