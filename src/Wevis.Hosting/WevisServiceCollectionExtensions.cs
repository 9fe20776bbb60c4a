using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Wevis.Hosting;

/// <summary>Registers a Wevis server with the .NET Generic Host.</summary>
public static class WevisServiceCollectionExtensions
{
    /// <summary>The configuration section the server's options are bound from unless another is given.</summary>
    public const string DefaultSectionPath = "Wevis:Server";

    /// <summary>
    /// Registers a Wevis server that starts and stops with the host: <see cref="ServerOptions"/> bound from the
    /// configuration section <paramref name="sectionPath"/> (<c>Wevis:Server:Port</c>, <c>…:LoginTimeout</c>, …) and
    /// its TLS certificate from <c>…:Tls</c> (<see cref="WevisTlsOptions"/>), both checked when the host starts; the
    /// host's <c>ILoggerFactory</c>, <c>IMeterFactory</c> and <c>TimeProvider</c> (if registered). The <see cref="Server"/>
    /// itself is a singleton, to reach its rooms from other services.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="sectionPath">Where in the configuration the server's options are.</param>
    /// <returns>A builder to name the validator, the entry room and the room types.</returns>
    /// <exception cref="InvalidOperationException">A server is already registered in <paramref name="services"/>.</exception>
    public static WevisServerBuilder AddWevisServer(this IServiceCollection services, string sectionPath = DefaultSectionPath)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(sectionPath);
        if (services.Any(d => d.ServiceType == typeof(ServerRegistrations)))
        {
            throw new InvalidOperationException("A Wevis server is already registered in these services; a host runs one.");
        }

        var registrations = new ServerRegistrations();
        services.AddSingleton(registrations);
        services.AddOptions<ServerOptions>().BindConfiguration(sectionPath).ValidateOnStart();
        services.AddOptions<WevisTlsOptions>().BindConfiguration(sectionPath + ":Tls").ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ServerOptions>, ServerOptionsValidator>(
            sp => new ServerOptionsValidator(sectionPath, sp.GetService<IConfiguration>())));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WevisTlsOptions>, TlsOptionsValidator>(
            _ => new TlsOptionsValidator(sectionPath + ":Tls")));
        services.TryAddSingleton<Server>(HostedServerFactory.Create);
        services.AddHostedService<WevisServerService>();
        return new WevisServerBuilder(services, registrations);
    }
}
