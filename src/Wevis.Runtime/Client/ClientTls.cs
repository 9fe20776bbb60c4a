using System.Net.Security;
using System.Security.Authentication;
using Wevis.Transport;

namespace Wevis;

/// <summary>The client's side of the TLS handshake, and what it tells the user when the server does not speak TLS.</summary>
internal static class ClientTls
{
    /// <summary>Does the handshake over <paramref name="stream"/> and returns the TLS stream; on failure it is disposed.</summary>
    /// <exception cref="ConnectionFailedException">The server answered in plain Wevis: it does not use TLS.</exception>
    /// <exception cref="AuthenticationException">The handshake failed otherwise (the certificate was refused, say).</exception>
    public static async Task<SslStream> AuthenticateAsync(Stream stream, ClientOptions options, string host, int port, CancellationToken cancellationToken)
    {
        // A plain server sends its welcome as soon as it accepts; kept, those bytes say why the handshake failed.
        var received = new FirstBytesStream(stream);
        var ssl = new SslStream(received, leaveInnerStreamOpen: false);
        try
        {
            await ssl.AuthenticateAsClientAsync(
                new SslClientAuthenticationOptions
                {
                    TargetHost = options.TlsTargetHost ?? host,
                    RemoteCertificateValidationCallback = options.ServerCertificateValidation,
                },
                cancellationToken).ConfigureAwait(false);
            return ssl;
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException && TlsDetection.LooksLikeWevisFrame(received.FirstBytes))
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new ConnectionFailedException(
                $"TLS with {host}:{port} failed: the server does not use TLS (it answered in plain Wevis); turn ClientOptions.UseTls off to connect to it.",
                ex);
        }
        catch
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
