using System.Security.Cryptography;
using System.Text;

namespace Wevis;

/// <summary>
/// The salted password hash the login uses, as in the original module: the client sends
/// <c>Encrypt(password, salt)</c> (never the password), and the server's validator compares it with
/// <see cref="Verify"/>.
/// </summary>
/// <remarks>
/// The salt is fresh for every connection, so a captured hash cannot be replayed on another connection.
/// It does not hide the password from someone who can read the traffic and guess passwords offline: use TLS
/// (<see cref="ServerOptions.Certificate"/>) on untrusted networks.
/// </remarks>
public static class Credentials
{
    /// <summary>The lowercase hex SHA-512 of <paramref name="password"/> followed by <paramref name="salt"/>, in UTF-8.</summary>
    public static string Encrypt(string password, string salt)
    {
        ArgumentNullException.ThrowIfNull(password);
        ArgumentNullException.ThrowIfNull(salt);
        byte[] hash = SHA512.HashData(Encoding.UTF8.GetBytes(password + salt));
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>
    /// Whether <paramref name="received"/> (what the client sent) is <see cref="Encrypt"/> of
    /// <paramref name="expectedPassword"/> and <paramref name="salt"/>. The comparison takes the same time
    /// whatever the input, so timing reveals nothing about how close a guess was.
    /// </summary>
    /// <param name="received">The hash the client sent.</param>
    /// <param name="expectedPassword">
    /// The user's real password; or null when there is no such user, in which case the same work is done and the
    /// answer is false, so that an unknown user takes as long to refuse as a wrong password.
    /// </param>
    /// <param name="salt">The salt the server sent this connection.</param>
    public static bool Verify(string received, string? expectedPassword, string salt)
    {
        ArgumentNullException.ThrowIfNull(received);
        ArgumentNullException.ThrowIfNull(salt);
        byte[] expected = Encoding.ASCII.GetBytes(Encrypt(expectedPassword ?? string.Empty, salt));
        byte[] actual = Encoding.UTF8.GetBytes(received);
        // Unequal lengths return at once, which reveals only the length of a hash: public knowledge.
        bool equal = CryptographicOperations.FixedTimeEquals(actual, expected);
        return equal & expectedPassword is not null;
    }

    /// <summary>A new salt: 16 bytes from the operating system's cryptographic random generator, in lowercase hex.</summary>
    public static string NewSalt() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
}
