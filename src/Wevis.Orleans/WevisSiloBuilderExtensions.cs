using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.Storage;

namespace Wevis.Orleans;

/// <summary>Adds Wevis to an Orleans silo: rooms as grains, and the silo as a Wevis gateway.</summary>
public static class WevisSiloBuilderExtensions
{
    /// <summary>
    /// Makes this silo a Wevis gateway and a host of Wevis rooms: it listens for Wevis clients on
    /// <see cref="WevisClusterOptions.Gateway"/>'s port once the silo is active, logs them in, and forwards their
    /// messages to their rooms, which run as grains on any silo. Give every silo the same settings (but ports).
    /// </summary>
    /// <exception cref="InvalidOperationException">No login, or no entry room.</exception>
    public static ISiloBuilder AddWevisGateway(this ISiloBuilder builder, Action<WevisClusterOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new WevisClusterOptions();
        configure(options);
        options.Validate();
        IServiceCollection services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(sp => new NodeRooms(
            options,
            sp.GetRequiredService<IGrainFactory>(),
            sp.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>(),
            sp.GetRequiredService<ILocalSiloDetails>().SiloAddress)
        {
            Membership = new(() => sp.GetService<IClusterMembershipService>()),
            StateStore = options.StateStore
                ?? (options.StateStorage is { } name ? new GrainStorageRoomStateStore(sp.GetRequiredKeyedService<IGrainStorage>(name)) : null),
        });
        services.AddPlacementDirector<AwayFromCallerPlacement, AwayFromCallerPlacementDirector>();
        services.AddSingleton<WevisGateway>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<WevisGateway>());
        services.AddHostedService<SiloDeathWatch>();
        services.AddHostedService<DirectoryDeathWatch>();
        return builder;
    }

    /// <summary>The port this silo's Wevis gateway listens on (the one picked, for port 0); for tests and tools.</summary>
    /// <param name="services">The silo's services (<c>host.Services</c>).</param>
    /// <exception cref="InvalidOperationException">The silo has no Wevis gateway, or it has not started.</exception>
    public static int GetWevisGatewayPort(this IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        WevisGateway gateway = services.GetService<WevisGateway>() ?? throw new InvalidOperationException("This silo has no Wevis gateway (AddWevisGateway).");
        return gateway.Port;
    }

    /// <summary>
    /// This silo's <see cref="RoomDirectory"/>, for server code on the node outside rooms (an admin command, a timer
    /// of your own): its async calls (<see cref="RoomDirectory.FindAsync"/>, <see cref="RoomDirectory.ListAsync"/>,
    /// <see cref="RoomDirectory.CloseAsync(string, string, bool)"/>) and <see cref="RoomDirectory.CreateAsync"/> act on
    /// the whole cluster; <see cref="RoomDirectory.Find"/> and <see cref="RoomDirectory.List"/> see this node's rooms.
    /// </summary>
    /// <param name="services">The silo's services (<c>host.Services</c>).</param>
    /// <exception cref="InvalidOperationException">The silo has no Wevis gateway (<see cref="AddWevisGateway"/>).</exception>
    public static RoomDirectory GetWevisRooms(this IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        NodeRooms node = services.GetService<NodeRooms>() ?? throw new InvalidOperationException("This silo has no Wevis gateway (AddWevisGateway).");
        return node.Directory;
    }
}
