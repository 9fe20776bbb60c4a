using Microsoft.Extensions.Logging;

namespace Wevis.Hosting;

/// <summary>The hosting package's log messages, in one place.</summary>
internal static partial class HostingLog
{
    [LoggerMessage(300, LogLevel.Critical, "The Wevis server failed; stopping the application")]
    public static partial void ServerFailed(ILogger logger, Exception exception);

    [LoggerMessage(301, LogLevel.Information, "Wevis server using the TLS certificate {Subject} (expires {NotAfter:u}) from {Path}")]
    public static partial void UsingCertificate(ILogger logger, string subject, DateTime notAfter, string path);
}
