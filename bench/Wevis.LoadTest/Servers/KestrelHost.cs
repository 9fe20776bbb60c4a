using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Wevis.LoadTest.Servers;

/// <summary>
/// A minimal Kestrel application on 127.0.0.1 (no logging providers, no middleware but routing), shared by the
/// SignalR and gRPC servers.
/// </summary>
internal sealed class KestrelHost(HttpProtocols protocols, Action<IServiceCollection> services, Action<WebApplication> endpoints) : IBenchServer
{
    private WebApplication? _app;

    public int Port { get; private set; }

    public async Task StartAsync(int port)
    {
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = protocols);
            kestrel.AddServerHeader = false;
        });
        builder.Services.AddLogging();
        builder.Services.AddRouting();
        services(builder.Services);
        WebApplication app = builder.Build();
        app.UseRouting();
        endpoints(app);
        await app.StartAsync().ConfigureAwait(false);
        _app = app;
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Port = new Uri(address).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _app.StopAsync(timeout.Token).ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
        }
    }
}
