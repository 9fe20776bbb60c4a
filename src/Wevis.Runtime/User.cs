namespace Wevis;

/// <summary>
/// A logged-in user, as the server's validator accepted them. Subclass it to carry the application's own
/// properties (a score, a team); the room sees the same object as <see cref="Connection.User"/>.
/// </summary>
public class User
{
    /// <summary>Creates a user with the name that identifies them (for the per-user connection limit, and in logs).</summary>
    public User(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
    }

    /// <summary>The user's name. Users with the same name are the same user for <see cref="ServerOptions.MaxConnectionsPerUser"/>.</summary>
    public string Name { get; }

    /// <inheritdoc/>
    public override string ToString() => Name;
}
