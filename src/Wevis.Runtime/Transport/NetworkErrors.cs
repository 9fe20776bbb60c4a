using System.Security.Authentication;

namespace Wevis.Transport;

/// <summary>The exceptions that mean "the connection is gone or going", as opposed to a bug.</summary>
internal static class NetworkErrors
{
    /// <summary>
    /// Whether <paramref name="ex"/> comes from the network or from closing: a reset, a closed or disposed socket or
    /// stream, a failed TLS record, a cancelled read.
    /// </summary>
    public static bool IsNetworkError(Exception ex) =>
        ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException or AuthenticationException
            or InvalidOperationException or OperationCanceledException;
}
