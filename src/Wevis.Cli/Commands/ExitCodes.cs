namespace Wevis.Cli.Commands;

/// <summary>What the tool's exit code says, for scripts (README and docs/guide/cli.md list them).</summary>
internal static class ExitCodes
{
    /// <summary>Done: the definitions are clean, the message was sent, the expected message arrived.</summary>
    public const int Success = 0;

    /// <summary>The definitions have errors, or the command line or a message typed as text is wrong.</summary>
    public const int Usage = 1;

    /// <summary>The server could not be reached, TLS failed, or the connection was lost.</summary>
    public const int ConnectionFailed = 2;

    /// <summary>The server refused the login; its reason is printed.</summary>
    public const int LoginRejected = 3;

    /// <summary>The expected message did not arrive in time.</summary>
    public const int Timeout = 4;

    /// <summary>The server closed the connection before the expected message arrived.</summary>
    public const int Closed = 5;
}
