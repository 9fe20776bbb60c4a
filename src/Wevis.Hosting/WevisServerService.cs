using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Wevis.Hosting;

/// <summary>
/// Runs the hosted <see cref="Server"/>: starts it with the host and stops it with the host, gracefully (users are
/// told the server is stopping, what was queued goes out within <see cref="ServerOptions.StopTimeout"/>, leave hooks
/// run, rooms are disposed). If the server fails while running, the application is stopped.
/// </summary>
internal sealed class WevisServerService(Server server, IHostApplicationLifetime? lifetime = null, ILogger<WevisServerService>? logger = null) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await server.StartAsync(cancellationToken).ConfigureAwait(false);
        _ = StopApplicationIfServerFailsAsync();
    }

    public Task StopAsync(CancellationToken cancellationToken) => server.StopAsync(cancellationToken);

    private async Task StopApplicationIfServerFailsAsync()
    {
        try
        {
            await server.Completion.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            HostingLog.ServerFailed(logger ?? (ILogger)NullLogger.Instance, ex);
            lifetime?.StopApplication();
        }
    }
}
