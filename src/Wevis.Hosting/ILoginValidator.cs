namespace Wevis.Hosting;

/// <summary>
/// Checks logins for a server run by the Generic Host: a service resolved from dependency injection, so it can take
/// a user store, a clock or options in its constructor. Register it with <see cref="WevisServerBuilder.UseValidator{TValidator}"/>.
/// </summary>
public interface ILoginValidator
{
    /// <summary>Decides one login: return a <see cref="User"/> to accept it or a reason to reject it (as <see cref="AsyncLoginValidator"/>).</summary>
    /// <param name="username">The name the client gave.</param>
    /// <param name="password">What the client sent for the password: <see cref="Credentials.Encrypt"/> of the real password and <paramref name="salt"/>.</param>
    /// <param name="salt">The salt the server sent this connection.</param>
    /// <param name="version">The client program's version string.</param>
    /// <param name="cancellationToken">Cancelled when the login timeout passes or the server stops.</param>
    ValueTask<LoginResult> ValidateAsync(string username, string password, string salt, string version, CancellationToken cancellationToken);
}
