using TimeMessages;
using Wevis;

namespace TimeServer;

/// <summary>The example server's login check: one user, one password, one client version.</summary>
public static class TimeLogin
{
    /// <summary>A validator that accepts <paramref name="user"/> with <paramref name="password"/>, from clients of <see cref="TimeProtocol.Version"/>.</summary>
    public static LoginValidator Validator(string user, string password) =>
        (username, sentPassword, salt, version) =>
        {
            if (version != TimeProtocol.Version)
            {
                return $"This server speaks version {TimeProtocol.Version}; the client is version {version}.";
            }

            // The client sent Credentials.Encrypt(its password, salt), as the original's wevis.encrypt; Verify
            // compares that with Encrypt(password, salt), in constant time.
            if (username == user && Credentials.Verify(sentPassword, password, salt))
            {
                return new User(username);
            }

            return "Unknown user or wrong password.";
        };
}
