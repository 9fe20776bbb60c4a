namespace Wevis.Hosting;

/// <summary>
/// Where a hosted server's TLS certificate is, bound from the <c>Wevis:Server:Tls</c> section. With no
/// <see cref="CertificatePath"/> the server speaks plain TCP; with one, the certificate is loaded and checked when the
/// host starts and set as <see cref="ServerOptions.Certificate"/>.
/// </summary>
public sealed class WevisTlsOptions
{
    /// <summary>
    /// The certificate file: a PKCS#12 file (<c>.pfx</c>, <c>.p12</c>) that holds its private key, or a PEM
    /// certificate (<c>.pem</c>, <c>.crt</c>) whose key is in <see cref="KeyPath"/>. Default null: no TLS.
    /// </summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key file that goes with a PEM <see cref="CertificatePath"/>. Default null.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The password of a PKCS#12 file or of an encrypted PEM key. Default null: none. Keep it out of appsettings.json (an environment variable or a secret store).</summary>
    public string? Password { get; set; }
}
