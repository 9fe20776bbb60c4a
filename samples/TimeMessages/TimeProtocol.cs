namespace TimeMessages;

/// <summary>What the time server and its clients agree on besides the messages.</summary>
public static class TimeProtocol
{
    /// <summary>The version clients send when they log in, and the one the server accepts.</summary>
    public const string Version = "1.0.0";

    /// <summary>The user the example server accepts unless told otherwise.</summary>
    public const string DefaultUser = "michael";

    /// <summary>That user's password unless told otherwise.</summary>
    public const string DefaultPassword = "mypassword";
}
