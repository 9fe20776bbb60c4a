using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Wevis.Hosting;

/// <summary>
/// Checks a hosted server's <see cref="ServerOptions"/> when the host starts, in the configuration's words: a
/// setting out of range is named by its configuration key with the value it has (<c>Wevis:Server:Port must be
/// between 0 and 65535 (it is 70000)</c>), and a key that is no setting (a typo) is an error, not silently ignored.
/// </summary>
internal sealed class ServerOptionsValidator(string sectionPath, IConfiguration? configuration) : IValidateOptions<ServerOptions>
{
    /// <summary>Keys of the section that are not <see cref="ServerOptions"/> properties but are still understood.</summary>
    private static readonly string[] s_otherKeys = ["Tls"];

    /// <summary>The settings configuration can give: the options' properties that the binder can fill.</summary>
    private static readonly string[] s_settings = [.. typeof(ServerOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.CanWrite && IsBindable(p.PropertyType))
        .Select(p => p.Name)
        .Order(StringComparer.Ordinal)];

    public ValidateOptionsResult Validate(string? name, ServerOptions options)
    {
        if (name != Options.DefaultName)
        {
            return ValidateOptionsResult.Skip;
        }

        var failures = new List<string>();
        if (configuration is not null)
        {
            foreach (IConfigurationSection setting in configuration.GetSection(sectionPath).GetChildren())
            {
                if (!s_settings.Contains(setting.Key, StringComparer.OrdinalIgnoreCase) && !s_otherKeys.Contains(setting.Key, StringComparer.OrdinalIgnoreCase))
                {
                    failures.Add($"{setting.Path} is not a Wevis server setting; the settings are {string.Join(", ", s_settings)}, and Tls.");
                }
            }
        }

        try
        {
            options.Validate();
        }
        catch (ArgumentOutOfRangeException ex)
        {
            failures.Add(Reword(ex, options));
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>"ServerOptions.Port must be … (Parameter 'Port')" as "Wevis:Server:Port must be … (it is 70000)".</summary>
    private string Reword(ArgumentOutOfRangeException ex, ServerOptions options)
    {
        string setting = ex.ParamName ?? "?";
        string message = ex.Message;
        int parameter = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        if (parameter >= 0)
        {
            message = message[..parameter];
        }

        string prefix = "ServerOptions." + setting + " ";
        string rule = message.StartsWith(prefix, StringComparison.Ordinal) ? message[prefix.Length..].TrimEnd('.') : message;
        object? value = typeof(ServerOptions).GetProperty(setting)?.GetValue(options);
        string shown = value switch
        {
            null => "not set",
            TimeSpan span => span.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
            IFormattable formattable => formattable.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
            _ => value.ToString() ?? string.Empty,
        };
        return $"{sectionPath}:{setting} {rule} (it is {shown}).";
    }

    private static bool IsBindable(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(TimeSpan) || Nullable.GetUnderlyingType(type) is { } inner && IsBindable(inner);
}

/// <summary>Checks a hosted server's TLS settings when the host starts: the files exist and hold a certificate with its private key.</summary>
internal sealed class TlsOptionsValidator(string sectionPath) : IValidateOptions<WevisTlsOptions>
{
    public ValidateOptionsResult Validate(string? name, WevisTlsOptions options)
    {
        if (name != Options.DefaultName)
        {
            return ValidateOptionsResult.Skip;
        }

        if (options.CertificatePath is null)
        {
            return options.KeyPath is null
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail($"{sectionPath}:KeyPath is set but {sectionPath}:CertificatePath is not; set both, or neither for plain TCP.");
        }

        try
        {
            using System.Security.Cryptography.X509Certificates.X509Certificate2 certificate = TlsCertificate.Load(options);
            return ValidateOptionsResult.Success;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or InvalidOperationException or ArgumentException)
        {
            return ValidateOptionsResult.Fail($"{sectionPath}:CertificatePath ({options.CertificatePath}): {ex.Message}");
        }
    }
}
