using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Wevis.Hosting;

/// <summary>
/// Says what a hosted Wevis server is made of: its login validator, its entry room, the room types it can make and
/// its message types. Returned by <see cref="WevisServiceCollectionExtensions.AddWevisServer"/>; every method returns
/// the builder, so calls chain.
/// </summary>
/// <remarks>
/// Rooms and the validator are resolved from the container when the host starts, so their constructors can take
/// any registered service (a user store, options, an <c>ILogger&lt;T&gt;</c>). The entry room is a singleton; each
/// room of a type is a new instance, made when the room is created.
/// </remarks>
public sealed class WevisServerBuilder
{
    private readonly ServerRegistrations _registrations;

    internal WevisServerBuilder(IServiceCollection services, ServerRegistrations registrations)
    {
        Services = services;
        _registrations = registrations;
    }

    /// <summary>The service collection the server is registered in.</summary>
    public IServiceCollection Services { get; }

    /// <summary>Checks logins with <typeparamref name="TValidator"/>, a singleton resolved from the container.</summary>
    public WevisServerBuilder UseValidator<TValidator>()
        where TValidator : class, ILoginValidator
    {
        Services.TryAddSingleton<TValidator>();
        Services.Replace(ServiceDescriptor.Singleton<ILoginValidator>(static sp => sp.GetRequiredService<TValidator>()));
        return this;
    }

    /// <summary>Checks logins with <paramref name="validator"/>.</summary>
    public WevisServerBuilder UseValidator(LoginValidator validator)
    {
        ArgumentNullException.ThrowIfNull(validator);
        return UseValidator((username, password, salt, version, _) => ValueTask.FromResult(validator(username, password, salt, version)));
    }

    /// <summary>Checks logins with <paramref name="validator"/>, asynchronously.</summary>
    public WevisServerBuilder UseValidator(AsyncLoginValidator validator)
    {
        ArgumentNullException.ThrowIfNull(validator);
        Services.Replace(ServiceDescriptor.Singleton<ILoginValidator>(new DelegateValidator(validator)));
        return this;
    }

    /// <summary>Makes <typeparamref name="TRoom"/> the entry room every user enters after logging in: a singleton resolved from the container.</summary>
    public WevisServerBuilder UseEntryRoom<TRoom>()
        where TRoom : Room
    {
        Services.TryAddSingleton<TRoom>();
        _registrations.EntryRoomType = typeof(TRoom);
        return this;
    }

    /// <summary>
    /// Defines a room type (<see cref="RoomDirectory.Define(string, Func{Room}, RoomTypeOptions?)"/>): each room of
    /// <paramref name="type"/> is a new <typeparamref name="TRoom"/> whose constructor's parameters come from the container.
    /// </summary>
    /// <param name="type">The type's name, which clients use to ask for its rooms.</param>
    /// <param name="configure">Sets the type's <see cref="RoomTypeOptions"/> (capacity, what clients may do).</param>
    /// <exception cref="ArgumentException">The name is empty, or already used for a room type of this server.</exception>
    public WevisServerBuilder AddRoomType<TRoom>(string type, Action<RoomTypeOptions>? configure = null)
        where TRoom : Room
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(type);
        if (_registrations.RoomTypes.Any(t => t.Name == type))
        {
            throw new ArgumentException($"There is already a room type named '{type}'.", nameof(type));
        }

        var options = new RoomTypeOptions();
        configure?.Invoke(options);
        _registrations.RoomTypes.Add(new RoomTypeRegistration(type, typeof(TRoom), options));
        return this;
    }

    /// <summary>Speaks <paramref name="messages"/> (<see cref="ServerOptions.Messages"/>) instead of <see cref="MessageRegistry.Default"/>.</summary>
    public WevisServerBuilder UseMessages(MessageRegistry messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        Services.Configure<ServerOptions>(options => options.Messages = messages);
        return this;
    }

    /// <summary>Changes <see cref="ServerOptions"/> in code; runs after the configuration is bound, so it has the last word.</summary>
    public WevisServerBuilder Configure(Action<ServerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Services.Configure(configure);
        return this;
    }

    private sealed class DelegateValidator(AsyncLoginValidator validator) : ILoginValidator
    {
        public ValueTask<LoginResult> ValidateAsync(string username, string password, string salt, string version, CancellationToken cancellationToken) =>
            validator(username, password, salt, version, cancellationToken);
    }
}

/// <summary>What a <see cref="WevisServerBuilder"/> was told about rooms, kept until the server is made.</summary>
internal sealed class ServerRegistrations
{
    public Type? EntryRoomType { get; set; }

    public List<RoomTypeRegistration> RoomTypes { get; } = [];
}

/// <summary>One room type of a hosted server: its name, its class and its settings.</summary>
internal sealed record RoomTypeRegistration(string Name, Type RoomType, RoomTypeOptions Options);
