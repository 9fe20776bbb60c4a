using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Wevis.Hosting;

/// <summary>Makes the hosted <see cref="Server"/> from the container: options, certificate, validator, rooms, logging, metrics and clock.</summary>
internal static class HostedServerFactory
{
    public static Server Create(IServiceProvider services)
    {
        ServerOptions options = services.GetRequiredService<IOptions<ServerOptions>>().Value;
        WevisTlsOptions tls = services.GetRequiredService<IOptions<WevisTlsOptions>>().Value;
        ServerRegistrations registrations = services.GetRequiredService<ServerRegistrations>();
        options.LoggerFactory ??= services.GetService<ILoggerFactory>();
        options.MeterFactory ??= services.GetService<IMeterFactory>();
        if (ReferenceEquals(options.TimeProvider, TimeProvider.System) && services.GetService<TimeProvider>() is { } time)
        {
            options.TimeProvider = time;
        }

        if (options.Certificate is null && tls.CertificatePath is not null)
        {
            options.Certificate = TlsCertificate.Load(tls);
            if (options.LoggerFactory is { } logging)
            {
                HostingLog.UsingCertificate(logging.CreateLogger(typeof(WevisServerService)), options.Certificate.Subject, options.Certificate.NotAfter.ToUniversalTime(), tls.CertificatePath);
            }
        }

        ILoginValidator validator = services.GetService<ILoginValidator>()
            ?? throw new InvalidOperationException("The Wevis server has no login validator: call AddWevisServer().UseValidator(…).");
        Type entryRoomType = registrations.EntryRoomType
            ?? throw new InvalidOperationException("The Wevis server has no entry room: call AddWevisServer().UseEntryRoom<TRoom>().");
        var entryRoom = (Room)services.GetRequiredService(entryRoomType);

        var server = new Server(validator.ValidateAsync, entryRoom, options);
        foreach (RoomTypeRegistration type in registrations.RoomTypes)
        {
            ObjectFactory factory = ActivatorUtilities.CreateFactory(type.RoomType, Type.EmptyTypes);
            server.Rooms.Define(type.Name, () => (Room)factory(services, null), type.Options);
        }

        return server;
    }
}
