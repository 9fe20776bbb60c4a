using System.Security.Cryptography;
using System.Text;

namespace Wevis.Orleans;

/// <summary>
/// What the cluster knows a resumable session by, made from its token: the session grain's key and the verifier it
/// checks. Never the token itself: grain keys appear in logs and the state store, and a key must not let anyone
/// resume. The key is the token's SHA-256; the verifier is a different hash of it (a domain-separated SHA-256), so
/// knowing the key gives nothing to present.
/// </summary>
internal static class SessionKeys
{
    /// <summary>The session grain's key: the token's SHA-256, as hexadecimal.</summary>
    public static string Key(string token) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>What a gateway presents to the session grain to prove it holds the token.</summary>
    public static byte[] Verifier(string token) => SHA256.HashData(Encoding.UTF8.GetBytes("wevis-session-verifier\n" + token));

    /// <summary>Whether <paramref name="presented"/> is <paramref name="expected"/>, in time that does not depend on where they differ.</summary>
    public static bool Matches(byte[] expected, byte[] presented) => CryptographicOperations.FixedTimeEquals(expected, presented);
}
