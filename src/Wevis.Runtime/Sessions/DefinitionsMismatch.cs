namespace Wevis.Sessions;

/// <summary>
/// What a client whose message definitions differ from the server's is told at login. The fingerprints end with the
/// definitions' version (<c>…@3</c>) when the definitions declare one; when the versions differ, the reason says
/// which side is older, so that the user of an old client reads plainly that it must be upgraded.
/// </summary>
internal static class DefinitionsMismatch
{
    /// <summary>The reason a login with <paramref name="clientFingerprint"/> is refused by a server whose fingerprint is <paramref name="serverFingerprint"/>.</summary>
    public static string Reason(string clientFingerprint, string serverFingerprint)
    {
        int client = MessageRegistry.VersionOf(clientFingerprint);
        int ours = MessageRegistry.VersionOf(serverFingerprint);
        if (client < ours)
        {
            return $"This server speaks version {ours} of the message definitions, and the client was built from an older version ({client}): upgrade the client.";
        }

        if (client > ours)
        {
            return $"The client was built from version {client} of the message definitions, newer than this server's version {ours}: the server must be upgraded first.";
        }

        return $"The client's message definitions differ from the server's (fingerprint {clientFingerprint}, server {serverFingerprint}); "
            + "build both from the same definitions.";
    }
}
