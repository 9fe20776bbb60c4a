using System.Security.Cryptography.X509Certificates;

namespace Wevis.Hosting;

/// <summary>Loads the certificate <see cref="WevisTlsOptions"/> names: PKCS#12, or PEM with its key.</summary>
internal static class TlsCertificate
{
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="InvalidOperationException">The certificate has no private key.</exception>
    /// <exception cref="System.Security.Cryptography.CryptographicException">A file is not what it should be, or the password is wrong.</exception>
    public static X509Certificate2 Load(WevisTlsOptions options)
    {
        string path = options.CertificatePath ?? throw new InvalidOperationException("No certificate path is set.");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"the file {Path.GetFullPath(path)} does not exist.", path);
        }

        X509Certificate2 certificate;
        if (options.KeyPath is { } keyPath)
        {
            if (!File.Exists(keyPath))
            {
                throw new FileNotFoundException($"the key file {Path.GetFullPath(keyPath)} does not exist.", keyPath);
            }

            certificate = options.Password is { } password
                ? X509Certificate2.CreateFromEncryptedPemFile(path, password, keyPath)
                : X509Certificate2.CreateFromPemFile(path, keyPath);
        }
        else
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(path, options.Password);
        }

        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new InvalidOperationException("the certificate has no private key; a server needs it (a .pfx with the key, or a PEM certificate with KeyPath).");
        }

        return certificate;
    }
}
