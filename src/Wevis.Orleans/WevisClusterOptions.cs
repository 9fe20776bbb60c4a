namespace Wevis.Orleans;

/// <summary>
/// The settings of a silo's Wevis gateway and rooms: the login, the entry room, the room types, and the gateway's
/// server settings. Every silo of a cluster must be given the same login, entry room and room types.
/// </summary>
/// <example>
/// <code>
/// siloBuilder.AddWevisGateway(wevis =>
/// {
///     wevis.Login = (name, password, salt, version) => new User(name);
///     wevis.EntryRoom = () => new LobbyRoom();
///     wevis.Define("match", () => new MatchRoom(), new RoomTypeOptions { Capacity = 4 });
///     wevis.Gateway.Port = 12121;
/// });
/// </code>
/// </example>
public sealed class WevisClusterOptions
{
    private readonly Dictionary<string, (Func<Room> Factory, RoomTypeOptions Options)> _types = new(StringComparer.Ordinal);

    /// <summary>Decides each login on this silo's gateway (synchronously). Set this or <see cref="LoginAsync"/>.</summary>
    public LoginValidator? Login { get; set; }

    /// <summary>Decides each login on this silo's gateway, asynchronously (against a user store, say). Set this or <see cref="Login"/>.</summary>
    public AsyncLoginValidator? LoginAsync { get; set; }

    /// <summary>Makes the cluster's entry room (the lobby, id <c>lobby</c>): one instance in the cluster, on whichever silo hosts its grain. Required.</summary>
    public Func<Room>? EntryRoom { get; set; }

    /// <summary>
    /// The gateway's server settings: the port and host it listens on (default 12121; 0 for any free port), TLS, the
    /// message types (<see cref="ServerOptions.Messages"/>), limits, the clock and logging. Rooms on this silo use its
    /// messages, frame limit, clock and logger factory too. <see cref="ServerOptions.MaxConnectionsPerUser"/> counts per gateway.
    /// </summary>
    public ServerOptions Gateway { get; set; } = new();

    /// <summary>
    /// Where <see cref="PersistentRoom{TState}"/>s keep their state: the name of an Orleans grain storage (memory in
    /// tests, Redis in production: <c>AddRedisGrainStorage(name, ...)</c>). Null: <see cref="StateStore"/>, or none.
    /// </summary>
    public string? StateStorage { get; set; }

    /// <summary>
    /// Where <see cref="PersistentRoom{TState}"/>s keep their state, if not in a grain storage (<see cref="StateStorage"/>):
    /// a store shared by every silo, such as one <see cref="MemoryRoomStateStore"/> for silos in one process (tests).
    /// </summary>
    public IRoomStateStore? StateStore { get; set; }

    /// <summary>
    /// How long a room keeps a seat it holds for a user on their way in (a join, a join-or-create, a move) before it
    /// gives the seat back if the user has not entered: their gateway may die, or a call fail, between the two. Default
    /// 30 s; a user who comes later still enters if the room has a free seat then.
    /// </summary>
    public TimeSpan SeatReservationTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a room on this silo keeps what it has for a gateway that the cluster counts alive but that does not
    /// take the room's calls (they fail or time out): once the oldest of it is older than this, the room lets it go and
    /// ends the stays of that gateway's users there, as it does past <see cref="ServerOptions.MaxQueuedBytesPerConnection"/>
    /// bytes (the gateway closes their sessions with the reason if it comes back). Default 2 minutes, well past the
    /// call timeout and the time the cluster takes to declare a silo dead; must be positive.
    /// </summary>
    public TimeSpan MaxGatewayBacklogAge { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Defines a room type on the cluster: <paramref name="factory"/> makes each room of it, on whichever silo hosts its grain.</summary>
    /// <param name="type">The type's name, which clients use to ask for its rooms; room ids are the name, a dash and a number.</param>
    /// <param name="factory">Makes a new room of the type.</param>
    /// <param name="options">The type's settings (capacity, what clients may do); null for the defaults.</param>
    /// <exception cref="ArgumentException">The name is empty, taken, <c>lobby</c>, or contains '/'.</exception>
    public void Define(string type, Func<Room> factory, RoomTypeOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(type);
        ArgumentNullException.ThrowIfNull(factory);
        options ??= new RoomTypeOptions();
        options.Validate(type);
        if (type == RoomDirectory.EntryRoomName || type.Contains('/', StringComparison.Ordinal) || !_types.TryAdd(type, (factory, options)))
        {
            throw new ArgumentException($"There is already a room type named '{type}', or the name is not allowed.", nameof(type));
        }
    }

    /// <summary>Defines a room type whose rooms are made with <typeparamref name="TRoom"/>'s parameterless constructor.</summary>
    /// <exception cref="ArgumentException">The name is empty, taken, <c>lobby</c>, or contains '/'.</exception>
    public void Define<TRoom>(string type, RoomTypeOptions? options = null)
        where TRoom : Room, new() => Define(type, static () => new TRoom(), options);

    internal AsyncLoginValidator Validator =>
        LoginAsync ?? (Login is { } login
            ? (username, password, salt, version, _) => ValueTask.FromResult(login(username, password, salt, version))
            : throw new InvalidOperationException("Set WevisClusterOptions.Login or LoginAsync."));

    /// <summary>Checks the settings once, when the silo is built.</summary>
    /// <exception cref="InvalidOperationException">No login, no entry room, or a seat reservation timeout or gateway backlog age that is not positive.</exception>
    internal void Validate()
    {
        _ = Validator;
        if (EntryRoom is null)
        {
            throw new InvalidOperationException("Set WevisClusterOptions.EntryRoom: the cluster's lobby.");
        }

        if (SeatReservationTimeout <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("WevisClusterOptions.SeatReservationTimeout must be positive.");
        }

        if (MaxGatewayBacklogAge <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("WevisClusterOptions.MaxGatewayBacklogAge must be positive.");
        }
    }

    internal bool TryGetType(string type, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Func<Room>? factory, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RoomTypeOptions? options)
    {
        if (_types.TryGetValue(type, out var defined))
        {
            (factory, options) = defined;
            return true;
        }

        (factory, options) = (null, null);
        return false;
    }

    /// <summary>The defined room types' names.</summary>
    internal IEnumerable<string> TypeNames => _types.Keys;

    internal string? TypeOfId(string id)
    {
        if (id == RoomDirectory.EntryRoomName)
        {
            return id;
        }

        string? best = null;
        foreach (string type in _types.Keys)
        {
            if (id.Length > type.Length + 1 && id.StartsWith(type, StringComparison.Ordinal) && id[type.Length] == '-' && (best is null || type.Length > best.Length))
            {
                best = type;
            }
        }

        return best;
    }
}
