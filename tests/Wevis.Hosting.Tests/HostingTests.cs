using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Wevis.Hosting.Tests.Messages;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Tests.Shared;

namespace Wevis.Hosting.Tests;

/// <summary>A Wevis server under the Generic Host: configuration, validation at start, rooms from the container, a graceful stop.</summary>
public sealed class HostingTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static readonly Dictionary<string, string?> s_local = new()
    {
        ["Wevis:Server:Host"] = "127.0.0.1",
        ["Wevis:Server:Port"] = "0",
    };

    [Fact]
    public async Task OptionsAreBoundFromTheWevisServerSectionAndTheServerServesWithThem()
    {
        using IHost host = Build(new(s_local)
        {
            ["Wevis:Server:LoginTimeout"] = "00:00:03",
            ["Wevis:Server:MaxConnectionsPerUser"] = "2",
            ["Wevis:Server:MaxFrameSize"] = "2048",
            ["Wevis:Server:PingInterval"] = "00:01:00",
        });
        await host.StartAsync().WaitAsync(Bound);

        ServerOptions options = host.Services.GetRequiredService<IOptions<ServerOptions>>().Value;
        Assert.Equal(TimeSpan.FromSeconds(3), options.LoginTimeout);
        Assert.Equal(2, options.MaxConnectionsPerUser);
        Assert.Equal(2048, options.MaxFrameSize);
        Assert.Equal(TimeSpan.FromMinutes(1), options.PingInterval);

        // The binding took effect: two connections of one user are allowed, a third is not.
        Server server = host.Services.GetRequiredService<Server>();
        Assert.True(server.IsRunning);
        await using Client first = await ConnectAsync(server);
        await using Client second = await ConnectAsync(server);
        await using Client third = Client(server);
        LoginRejectedException rejected = await Assert.ThrowsAsync<LoginRejectedException>(() => third.ConnectAsync().WaitAsync(Bound));
        Assert.Contains("most connections allowed (2)", rejected.Message);

        // And the frame limit: a message over 2048 bytes closes the connection that sent it.
        first.Send(new Greeting(new string('x', 4096)));
        ConnectionClosedException closed = await Assert.ThrowsAsync<ConnectionClosedException>(() => first.ReceiveAsync().AsTask().WaitAsync(Bound));
        Assert.Contains("2048", closed.Message);
        await host.StopAsync().WaitAsync(Bound);
    }

    [Theory]
    [InlineData("Port", "70000", "Wevis:Server:Port must be between 0 and 65535 (it is 70000).")]
    [InlineData("LoginTimeout", "00:00:00", "Wevis:Server:LoginTimeout must be positive (it is 00:00:00).")]
    [InlineData("MaxQueuedBytesPerConnection", "100", "Wevis:Server:MaxQueuedBytesPerConnection must be at least MaxFrameSize + 4 (it is 100).")]
    [InlineData("Prot", "12121", "Wevis:Server:Prot is not a Wevis server setting; the settings are ")]
    public async Task ASettingOutOfRangeOrUnknownStopsTheHostFromStartingAndIsNamedByItsConfigurationKey(string key, string value, string expected)
    {
        using IHost host = Build(new(s_local) { ["Wevis:Server:" + key] = value });
        OptionsValidationException failure = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(Bound));
        Assert.Contains(expected, failure.Message);
    }

    [Fact]
    public async Task AValueOfTheWrongTypeNamesItsKey()
    {
        using IHost host = Build(new(s_local) { ["Wevis:Server:Port"] = "twelve" });
        InvalidOperationException failure = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync().WaitAsync(Bound));
        Assert.Contains("Wevis:Server:Port", failure.Message);
    }

    [Fact]
    public async Task AMissingCertificateFileStopsTheHostFromStarting()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"wevis-missing-{Guid.NewGuid():N}.pfx");
        using IHost host = Build(new(s_local) { ["Wevis:Server:Tls:CertificatePath"] = missing });
        OptionsValidationException failure = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(Bound));
        Assert.Contains("Wevis:Server:Tls:CertificatePath", failure.Message);
        Assert.Contains("does not exist", failure.Message);
    }

    [Fact]
    public async Task ACertificateFromConfigurationServesTls()
    {
        using X509Certificate2 certificate = TestCertificate.CreateSelfSigned();
        string path = Path.Combine(Path.GetTempPath(), $"wevis-{Guid.NewGuid():N}.pfx");
        await File.WriteAllBytesAsync(path, certificate.Export(X509ContentType.Pkcs12, "secret"));
        try
        {
            using IHost host = Build(new(s_local) { ["Wevis:Server:Tls:CertificatePath"] = path, ["Wevis:Server:Tls:Password"] = "secret" });
            await host.StartAsync().WaitAsync(Bound);
            Server server = host.Services.GetRequiredService<Server>();
            await using Client client = Client(server, options =>
            {
                options.UseTls = true;
                options.ServerCertificateValidation = (_, presented, _, _) => presented?.GetCertHashString() == certificate.GetCertHashString();
            });
            await client.ConnectAsync().WaitAsync(Bound);
            Assert.StartsWith("hello from the container", (await client.ReceiveAsync<Greeting>().AsTask().WaitAsync(Bound)).Text);
            await host.StopAsync().WaitAsync(Bound);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task WithoutAValidatorOrAnEntryRoomTheHostSaysWhatIsMissing()
    {
        using IHost noValidator = Build(s_local, server => server.UseEntryRoom<EntryRoom>());
        InvalidOperationException failure = await Assert.ThrowsAsync<InvalidOperationException>(() => noValidator.StartAsync().WaitAsync(Bound));
        Assert.Contains("UseValidator", failure.Message);

        using IHost noRoom = Build(s_local, server => server.UseValidator<TestValidator>());
        failure = await Assert.ThrowsAsync<InvalidOperationException>(() => noRoom.StartAsync().WaitAsync(Bound));
        Assert.Contains("UseEntryRoom", failure.Message);
    }

    [Fact]
    public async Task TheValidatorTheEntryRoomAndEachRoomOfATypeComeFromTheContainer()
    {
        using IHost host = Build(s_local, server => server
            .UseValidator<TestValidator>()
            .UseEntryRoom<EntryRoom>()
            .AddRoomType<MatchRoom>("match", type => type.Capacity = 1));
        host.Services.GetRequiredService<Greeter>().Text = "changed in the container";
        await host.StartAsync().WaitAsync(Bound);
        Server server = host.Services.GetRequiredService<Server>();

        Assert.Same(host.Services.GetRequiredService<EntryRoom>(), server.Room);
        Assert.NotNull(host.Services.GetRequiredService<EntryRoom>().InjectedLogger);
        await using Client client = Client(server);
        await client.ConnectAsync().WaitAsync(Bound);
        Assert.Equal("changed in the container in lobby", (await client.ReceiveAsync<Greeting>().AsTask().WaitAsync(Bound)).Text);

        // A room of the type is made by the container, with the type's options from AddRoomType.
        ClientRoom match = await client.JoinOrCreateRoomAsync("match").WaitAsync(Bound);
        Assert.Equal("changed in the container in match", (await client.ReceiveAsync<Greeting>().AsTask().WaitAsync(Bound)).Text);
        Room room = server.Rooms.Find(match.Id)!;
        Assert.IsType<MatchRoom>(room);
        Assert.Equal(1, room.Capacity);
        await host.StopAsync().WaitAsync(Bound);
    }

    [Fact]
    public async Task StoppingTheHostTellsUsersDrainsWhatWasQueuedRunsLeaveHooksAndDisposesRooms()
    {
        const int Count = 5_000;
        using IHost host = Build(s_local);
        await host.StartAsync().WaitAsync(Bound);
        Server server = host.Services.GetRequiredService<Server>();
        var room = (EntryRoom)server.Room;
        await using Client client = await ConnectAsync(server);

        // The handler queues every message in one turn; the first arriving means all are queued.
        client.Send(new SendMany(Count));
        Assert.Equal(0, (await client.ReceiveAsync<Numbered>().AsTask().WaitAsync(Bound)).Sequence);
        await host.StopAsync().WaitAsync(Bound);

        for (int i = 1; i < Count; i++)
        {
            Assert.Equal(i, (await client.ReceiveAsync<Numbered>().AsTask().WaitAsync(Bound)).Sequence);
        }

        ConnectionClosedException closed = await Assert.ThrowsAsync<ConnectionClosedException>(() => client.ReceiveAsync().AsTask().WaitAsync(Bound));
        Assert.Contains("the server is stopping", closed.Message);
        Assert.Equal(["michael"], room.Left);
        await room.Disposed.Task.WaitAsync(Bound);
        Assert.False(server.IsRunning);
        Assert.True(server.Completion.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task TheServerLogsThroughTheHostsLoggingAndUsesItsClock()
    {
        var log = new TestLog();
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        using IHost host = Build(s_local, log: log, services: services => services.AddSingleton<TimeProvider>(clock));
        await host.StartAsync().WaitAsync(Bound);
        Server server = host.Services.GetRequiredService<Server>();
        Assert.Contains(log.Entries, e => e.Category == "Wevis.Server" && e.Message.StartsWith("Wevis server listening on 127.0.0.1:", StringComparison.Ordinal));
        Assert.Same(clock, host.Services.GetRequiredService<IOptions<ServerOptions>>().Value.TimeProvider);
        await host.StopAsync().WaitAsync(Bound);
        Assert.Contains(log.Entries, e => e.Category == "Wevis.Server" && e.Message == "Wevis server stopped");
        _ = server;
    }

    [Fact]
    public void AHostRunsOneServer()
    {
        var services = new ServiceCollection();
        services.AddWevisServer();
        Assert.Throws<InvalidOperationException>(() => services.AddWevisServer());
    }

    private static IHost Build(
        Dictionary<string, string?> settings,
        Action<WevisServerBuilder>? configure = null,
        TestLog? log = null,
        Action<IServiceCollection>? services = null)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders();
        if (log is not null)
        {
            builder.Logging.AddProvider(log);
        }

        builder.Services.AddSingleton<Greeter>();
        WevisServerBuilder server = builder.Services.AddWevisServer();
        (configure ?? (s => s.UseValidator<TestValidator>().UseEntryRoom<EntryRoom>()))(server);
        services?.Invoke(builder.Services);
        return builder.Build();
    }

    private static Client Client(Server server, Action<ClientOptions>? configure = null)
    {
        var options = new ClientOptions { ConnectTimeout = TimeSpan.FromSeconds(10) };
        configure?.Invoke(options);
        return new Client("michael", "mypassword", "1.0.0", "127.0.0.1", server.Port, options);
    }

    private static async Task<Client> ConnectAsync(Server server)
    {
        Client client = Client(server);
        await client.ConnectAsync().WaitAsync(Bound);
        await client.ReceiveAsync<Greeting>().AsTask().WaitAsync(Bound);
        return client;
    }
}
