namespace Wevis;

/// <summary>
/// What a validator decides about a login: accept, as a <see cref="Wevis.User"/>, or reject, with a reason the
/// client is shown. A <see cref="Wevis.User"/> converts to an acceptance and a string to a rejection, so a
/// validator can return either.
/// </summary>
public readonly struct LoginResult
{
    private LoginResult(User? user, string? reason)
    {
        User = user;
        RejectionReason = reason;
    }

    /// <summary>The accepted user, or null for a rejection.</summary>
    public User? User { get; }

    /// <summary>Why the login was rejected, or null for an acceptance.</summary>
    public string? RejectionReason { get; }

    /// <summary>Whether the login was accepted.</summary>
    public bool IsAccepted => User is not null;

    /// <summary>Accepts the login as <paramref name="user"/>.</summary>
    public static LoginResult Accept(User user) => new(user ?? throw new ArgumentNullException(nameof(user)), null);

    /// <summary>Rejects the login; the client is shown <paramref name="reason"/>.</summary>
    public static LoginResult Reject(string reason) => new(null, string.IsNullOrWhiteSpace(reason) ? LoginValidation.GenericRejection : reason);

    /// <summary>Accepts <paramref name="user"/>; a null user rejects with the generic reason.</summary>
    public static implicit operator LoginResult(User? user) => user is null ? Reject(LoginValidation.GenericRejection) : Accept(user);

    /// <summary>Rejects with <paramref name="reason"/>.</summary>
    public static implicit operator LoginResult(string reason) => Reject(reason);
}

/// <summary>Checks a login: return a <see cref="User"/> to accept or a reason to reject.</summary>
/// <param name="username">The name the client gave.</param>
/// <param name="password">What the client sent for the password: <see cref="Credentials.Encrypt"/> of the real password and <paramref name="salt"/>.</param>
/// <param name="salt">The salt the server sent this connection.</param>
/// <param name="version">The client program's version string, to refuse clients that are too old.</param>
public delegate LoginResult LoginValidator(string username, string password, string salt, string version);

/// <summary>Checks a login asynchronously, for validators that look users up in a store.</summary>
/// <param name="username">The name the client gave.</param>
/// <param name="password">What the client sent for the password: <see cref="Credentials.Encrypt"/> of the real password and <paramref name="salt"/>.</param>
/// <param name="salt">The salt the server sent this connection.</param>
/// <param name="version">The client program's version string.</param>
/// <param name="cancellationToken">Cancelled when the login timeout passes or the server stops.</param>
public delegate ValueTask<LoginResult> AsyncLoginValidator(string username, string password, string salt, string version, CancellationToken cancellationToken);

/// <summary>Shared wording for logins.</summary>
internal static class LoginValidation
{
    /// <summary>Said for every failed password check, so a client cannot tell an unknown user from a wrong password.</summary>
    public const string GenericRejection = "Unknown user or wrong password.";
}
