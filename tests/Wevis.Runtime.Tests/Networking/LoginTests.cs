using Example;
using Wevis.Protocol;
using Wevis.Runtime.Tests.Infrastructure;

namespace Wevis.Runtime.Tests.Networking;

/// <summary>The login: each way it can fail gives the client the right reason, and the server keeps serving others.</summary>
public class LoginTests
{
    private static async Task AssertServerStillServesAsync(TestServer server)
    {
        await using Client healthy = await server.ConnectAsync("user1", "pw");
        healthy.Send(new WhoAmI());
        Assert.Equal("user1", (await healthy.ReceiveAsync<YouAre>().Within()).Name);
    }

    private static async Task<LoginRejectedException> RejectedAsync(Client client) =>
        await Assert.ThrowsAsync<LoginRejectedException>(() => client.ConnectAsync()).Within();

    [Fact]
    public async Task WrongPasswordGetsTheGenericReason()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using Client client = server.CreateClient(password: "wrong");

        LoginRejectedException ex = await RejectedAsync(client);

        Assert.Equal("Unknown user or wrong password.", ex.Reason);
        Assert.False(client.IsConnected);
        await AssertServerStillServesAsync(server);
    }

    [Fact]
    public async Task UnknownUserGetsTheSameReasonAsAWrongPassword()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using Client unknown = server.CreateClient(username: "nobody");
        await using Client wrong = server.CreateClient(password: "wrong");

        Assert.Equal((await RejectedAsync(wrong)).Reason, (await RejectedAsync(unknown)).Reason);
    }

    [Fact]
    public async Task TheValidatorsOwnReasonReachesTheClient()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using Client client = server.CreateClient(username: "banned");

        Assert.Equal("This account is banned.", (await RejectedAsync(client)).Reason);
        await server.Log.WaitForAsync(e => e.Message.Contains("login as 'banned' rejected: This account is banned.", StringComparison.Ordinal));
        await AssertServerStillServesAsync(server);
    }

    [Fact]
    public async Task ABadVersionIsRejectedByTheValidator()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using Client client = server.CreateClient(version: "0.9");

        Assert.Equal("Client version 0.9 is not supported; please upgrade to 1.0.0.", (await RejectedAsync(client)).Reason);
        await AssertServerStillServesAsync(server);
    }

    [Fact]
    public async Task MismatchedDefinitionsAreRejectedWithAReasonThatSaysSo()
    {
        await using TestServer server = await TestServer.StartAsync();
        var fewer = new MessageRegistry(WevisRegistry.Messages.Messages.Where(m => m.Name != "Explode"));
        await using Client client = server.CreateClient(configure: o => o.Messages = fewer);

        LoginRejectedException ex = await RejectedAsync(client);

        Assert.Contains("message definitions differ", ex.Reason, StringComparison.Ordinal);
        Assert.Contains(fewer.Fingerprint, ex.Reason, StringComparison.Ordinal);
        await AssertServerStillServesAsync(server);
    }

    [Fact]
    public async Task AClientBuiltFromAnOlderDefinitionsVersionIsToldToUpgrade()
    {
        // The tests' definitions include lobby.wevis, at @version 2; a client without them is built from version 0.
        await using TestServer server = await TestServer.StartAsync();
        var older = new MessageRegistry(WevisRegistry.Messages.Messages.Where(m => m.DefinitionsVersion == 0));
        await using Client client = server.CreateClient(configure: o => o.Messages = older);

        LoginRejectedException ex = await RejectedAsync(client);

        Assert.Equal(
            "This server speaks version 2 of the message definitions, and the client was built from an older version (0): upgrade the client.",
            ex.Reason);
        await AssertServerStillServesAsync(server);
    }

    [Fact]
    public async Task AClientNewerThanTheServerIsToldTheServerMustBeUpgraded()
    {
        var older = new MessageRegistry(WevisRegistry.Messages.Messages.Where(m => m.DefinitionsVersion == 0));
        await using TestServer server = await TestServer.StartAsync(o => o.Messages = older);
        await using Client client = server.CreateClient();

        LoginRejectedException ex = await RejectedAsync(client);

        Assert.StartsWith("The client was built from version 2 of the message definitions, newer than this server's version 0", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASecondConnectionOverThePerUserLimitIsRejectedAndTheFirstLivesOn()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using Client first = await server.ConnectAsync();
        await using Client second = server.CreateClient();

        Assert.Equal("User michael already has the most connections allowed (1).", (await RejectedAsync(second)).Reason);
        first.Send(new WhoAmI());
        Assert.IsType<YouAre>(await first.ReceiveAsync().Within());
    }

    [Fact]
    public async Task ThePerUserLimitIsConfigurableAndCountsReturnToZero()
    {
        await using TestServer server = await TestServer.StartAsync(o => o.MaxConnectionsPerUser = 2);
        Client first = await server.ConnectAsync();
        await using Client second = await server.ConnectAsync();
        Assert.Equal(2, server.Server.ConnectionsOf("michael"));

        await first.DisposeAsync().Within();
        await ExampleExchangeTests.WaitUntilAsync(() => server.Server.ConnectionsOf("michael") == 1);
        await second.DisposeAsync().Within();
        await ExampleExchangeTests.WaitUntilAsync(() => server.Server.ConnectionsOf("michael") == 0);

        await using Client again = await server.ConnectAsync();
        Assert.True(again.IsConnected);
    }

    [Fact]
    public async Task NoLoginWithinTheTimeoutClosesTheConnection()
    {
        var clock = new TestClock();
        await using TestServer server = await TestServer.StartAsync(clock: clock);
        using RawPeer silent = server.CreateRawPeer();
        Assert.IsType<Welcome>(await silent.ReceiveAsync().Within());

        clock.Advance(new ServerOptions().LoginTimeout);
        List<IMessage> received = await silent.ReceiveUntilClosedAsync().Within();

        Assert.Equal("did not log in within 5 s", Assert.IsType<Closing>(Assert.Single(received)).Reason);
        await server.Log.WaitForAsync(e => e.Message.Contains("did not log in within 5 s", StringComparison.Ordinal));
        await AssertServerStillServesAsync(server);
    }

    [Fact]
    public async Task AValidatorThatIgnoresItsCancellationIsLeftBehindAtTheLoginTimeoutAndTheServerStillStops()
    {
        var clock = new TestClock();
        var called = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var never = new TaskCompletionSource<LoginResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        TimeSpan loginTimeout = new ServerOptions().LoginTimeout;
        await using TestServer server = await TestServer.StartAsync(
            validator: (_, _, _, _, _) =>
            {
                // Never answers, and never looks at its cancellation token.
                called.TrySetResult();
                return new ValueTask<LoginResult>(never.Task);
            },
            clock: clock);
        using RawPeer peer = server.CreateRawPeer();
        var welcome = Assert.IsType<Welcome>(await peer.ReceiveAsync().Within());
        await peer.SendAsync(new Login("michael", Credentials.Encrypt("mypassword", welcome.Salt), TestServer.Version, WevisRegistry.Messages.Fingerprint)).Within();
        await called.Task.Within();

        // The connection's login timeout (from the accept) and the login's own (from when its check began).
        await clock.WaitForTimersAsync(loginTimeout, count: 2, what: "the login timeouts of the connection and of its login");
        clock.Advance(loginTimeout);
        List<IMessage> received = await peer.ReceiveUntilClosedAsync().Within();
        Assert.Equal("did not log in within 5 s", Assert.IsType<Closing>(Assert.Single(received)).Reason);

        // The connection ends without the validator's answer: it is counted closed, and the server stops.
        await server.Log.WaitForAsync(e => e.EventId.Id == 11);
        Assert.Equal(0, server.Server.ConnectionCount);
        await server.Server.StopAsync().Within();
        Assert.Equal(0, server.Server.PendingLogins);
        Assert.Contains(server.Log.Entries, e => e.EventId.Id == 21 && e.Message.EndsWith("rejected: The login took too long to check.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AMessageBeforeLoginClosesTheConnection()
    {
        await using TestServer server = await TestServer.StartAsync();
        using RawPeer peer = server.CreateRawPeer();
        Assert.IsType<Welcome>(await peer.ReceiveAsync().Within());

        await peer.SendAsync(new WhoAmI()).Within();
        List<IMessage> rest = await peer.ReceiveUntilClosedAsync().Within();

        Assert.Equal("expected a login message but received WhoAmI", Assert.IsType<Closing>(Assert.Single(rest)).Reason);
        await server.Log.WaitForAsync(e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning && e.Message.Contains("broke the protocol", StringComparison.Ordinal));
        await AssertServerStillServesAsync(server);
    }

    [Fact]
    public async Task AClientThatSaysHelloInAnotherProtocolVersionIsToldWhichVersionTheServerSpeaks()
    {
        await using TestServer server = await TestServer.StartAsync();
        using RawPeer peer = server.CreateRawPeer();

        await peer.SendAsync(new Hello(1));
        List<IMessage> received = await peer.ReceiveUntilClosedAsync(TimeSpan.FromSeconds(10)).WaitAsync(TimeSpan.FromSeconds(15));

        Assert.Equal(2, Assert.IsType<Welcome>(received[0]).Protocol);
        Assert.Equal(new Closing("the client speaks Wevis protocol version 1; this server speaks version 2"), received[^1]);
    }

    [Fact]
    public async Task EveryConnectionGetsAFreshSalt()
    {
        await using TestServer server = await TestServer.StartAsync();
        var salts = new HashSet<string>();
        for (int i = 0; i < 20; i++)
        {
            using RawPeer peer = server.CreateRawPeer();
            var welcome = Assert.IsType<Welcome>(await peer.ReceiveAsync().Within());
            Assert.Matches("^[0-9a-f]{32}$", welcome.Salt);
            Assert.Equal(WevisRegistry.Messages.Fingerprint, welcome.Fingerprint);
            Assert.Equal(WireProtocol.Version, welcome.Protocol);
            salts.Add(welcome.Salt);
        }

        Assert.Equal(20, salts.Count);
    }

    [Fact]
    public async Task AnAsyncValidatorCanLookUsersUp()
    {
        var store = new Dictionary<string, string> { ["ada"] = "lovelace" };
        AsyncLoginValidator validator = async (username, password, salt, version, cancellationToken) =>
        {
            await Task.Delay(20, cancellationToken);
            return store.TryGetValue(username, out string? expected) && Credentials.Verify(password, expected, salt)
                ? new User(username)
                : LoginResult.Reject("No such user.");
        };
        await using TestServer server = await TestServer.StartAsync(validator: validator);

        await using Client ada = server.CreateClient("ada", "lovelace");
        await ada.ConnectAsync().Within();
        await using Client eve = server.CreateClient("eve", "x");
        Assert.Equal("No such user.", (await RejectedAsync(eve)).Reason);
    }

    [Fact]
    public async Task AValidatorThatThrowsRejectsWithoutCrashing()
    {
        await using TestServer server = await TestServer.StartAsync(validator: (_, _, _, _, _) => throw new InvalidOperationException("store is down"));
        await using Client client = server.CreateClient();

        Assert.Equal("The server could not check the login.", (await RejectedAsync(client)).Reason);
        LogEntry entry = await server.Log.WaitForAsync(e => e.Exception is InvalidOperationException);
        Assert.Equal("store is down", entry.Exception!.Message);
    }

    [Fact]
    public async Task AnUnreachableServerFailsClearly()
    {
        int port;
        await using (TestServer server = await TestServer.StartAsync())
        {
            port = server.Port;
        }

        await using var client = new Client("michael", "mypassword", TestServer.Version, "127.0.0.1", port);
        ConnectionFailedException ex = await Assert.ThrowsAsync<ConnectionFailedException>(() => client.ConnectAsync()).Within();
        Assert.Contains($"Could not connect to 127.0.0.1:{port}", ex.Message, StringComparison.Ordinal);
    }
}
