using Microsoft.Extensions.Configuration;
using TimeMessages;
using Wevis;
using Wevis.Hosting;

namespace TimeServer.Hosted;

/// <summary>
/// The time server's login check as a service: the user comes from configuration (<c>TimeServer:User</c>), the
/// password from <c>TimeServer:Password</c> (an environment variable, <c>TimeServer__Password</c>, rather than
/// appsettings.json), defaulting to the example's.
/// </summary>
public sealed class ConfiguredTimeLogin(IConfiguration configuration) : ILoginValidator
{
    private readonly LoginValidator _validator = TimeLogin.Validator(
        configuration["TimeServer:User"] ?? TimeProtocol.DefaultUser,
        configuration["TimeServer:Password"] ?? TimeProtocol.DefaultPassword);

    /// <inheritdoc/>
    public ValueTask<LoginResult> ValidateAsync(string username, string password, string salt, string version, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_validator(username, password, salt, version));
}
