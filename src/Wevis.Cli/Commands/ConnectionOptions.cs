using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Wevis.Cli.Definitions;

namespace Wevis.Cli.Commands;

/// <summary>
/// The options every command that connects shares: where, the definitions, who, the password's source, TLS, and
/// how long to wait. The password is never an argument (it would show in the process list): it comes from an
/// environment variable, standard input, or a prompt.
/// </summary>
internal sealed class ConnectionOptions
{
    public const string DefaultPasswordVariable = "WEVIS_PASSWORD";

    public Argument<string> Target { get; } = new("server")
    {
        Description = "The server: host:port (the port defaults to 12121; [::1]:12121 for IPv6).",
    };

    public Option<string[]> Definitions { get; } = new("--definitions", "-d")
    {
        Description = "The .wevis files the server was built from (repeat for several); default: the one .wevis file in this folder.",
    };

    public Option<string> User { get; } = new("--user", "-u")
    {
        Description = "The name to log in as; default: $WEVIS_USER, else your user name.",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("WEVIS_USER") is { Length: > 0 } user ? user : Environment.UserName,
    };

    public Option<string> PasswordVariable { get; } = new("--password-env")
    {
        Description = $"The environment variable that holds the password (default {DefaultPasswordVariable}); without it, the password is asked for.",
        DefaultValueFactory = _ => DefaultPasswordVariable,
    };

    public Option<bool> PasswordStdin { get; } = new("--password-stdin")
    {
        Description = "Read the password from the first line of standard input.",
    };

    public Option<string> ClientVersion { get; } = new("--client-version")
    {
        Description = "The client version sent at login, which the server's validator may check.",
        DefaultValueFactory = _ => "1.0.0",
    };

    public Option<bool> Tls { get; } = new("--tls") { Description = "Connect with TLS." };

    public Option<bool> TlsInsecure { get; } = new("--tls-insecure") { Description = "With --tls, accept any server certificate (for a self-signed one in development)." };

    public Option<double> Timeout { get; } = new("--timeout", "-t")
    {
        Description = "Seconds to wait for connecting and logging in, and for an expected message.",
        DefaultValueFactory = _ => 10,
    };

    public Option<bool> Json { get; } = new("--json") { Description = "Print what arrives as JSON lines: {\"message\":\"ItIs\",\"arguments\":{…}}." };

    public void AddTo(Command command)
    {
        command.Add(Target);
        command.Add(Definitions);
        command.Add(User);
        command.Add(PasswordVariable);
        command.Add(PasswordStdin);
        command.Add(ClientVersion);
        command.Add(Tls);
        command.Add(TlsInsecure);
        command.Add(Timeout);
        command.Add(Json);
    }

    /// <summary>Loads the definitions the command names, or the one .wevis file in the current folder.</summary>
    /// <exception cref="UsageException">No definitions, or they have errors (printed as the build prints them).</exception>
    public LoadedDefinitions LoadDefinitions(ParseResult parse, TextWriter error)
    {
        string[] paths = parse.GetValue(Definitions) ?? [];
        if (paths.Length == 0)
        {
            string[] here = Directory.GetFiles(Environment.CurrentDirectory, "*.wevis");
            if (here.Length != 1)
            {
                throw new UsageException(here.Length == 0
                    ? "No definitions: name the server's .wevis file with --definitions (-d)."
                    : $"There are {here.Length} .wevis files here: name the server's with --definitions (-d).");
            }

            paths = here;
        }

        LoadedDefinitions definitions;
        try
        {
            definitions = DefinitionsLoader.Load(paths);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new UsageException(ex.Message);
        }

        if (definitions.HasErrors)
        {
            foreach (Microsoft.CodeAnalysis.Diagnostic diagnostic in definitions.Diagnostics)
            {
                error.WriteLine(diagnostic.ToString());
            }

            throw new UsageException("The definitions have errors; fix them first (wevis check shows them).");
        }

        return definitions;
    }

    /// <summary>Makes a client for the target, its password from the chosen source.</summary>
    /// <exception cref="UsageException">The target or the password cannot be had.</exception>
    public Client CreateClient(ParseResult parse, LoadedDefinitions definitions, string password, string? user = null)
    {
        (string host, int port) = ParseTarget(parse.GetValue(Target)!);
        var options = new ClientOptions
        {
            Messages = definitions.Registry,
            ConnectTimeout = TimeoutOf(parse),
            UseTls = parse.GetValue(Tls),
        };
        if (parse.GetValue(TlsInsecure))
        {
            options.ServerCertificateValidation = (_, _, _, _) => true;
        }

        return new Client(user ?? parse.GetValue(User)!, password, parse.GetValue(ClientVersion)!, host, port, options);
    }

    public TimeSpan TimeoutOf(ParseResult parse)
    {
        double seconds = parse.GetValue(Timeout);
        if (!double.IsFinite(seconds) || seconds <= 0)
        {
            throw new UsageException($"--timeout must be a positive number of seconds, not {seconds.ToString(CultureInfo.InvariantCulture)}.");
        }

        return TimeSpan.FromSeconds(seconds);
    }

    /// <summary><c>host:port</c>, <c>host</c> (port 12121), <c>[::1]:port</c>.</summary>
    /// <exception cref="UsageException">Not such a target.</exception>
    public static (string Host, int Port) ParseTarget(string target)
    {
        string host = target;
        string? portText = null;
        if (target.StartsWith('['))
        {
            int close = target.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                throw new UsageException($"'{target}' is not host:port: the [ of an IPv6 address is not closed.");
            }

            host = target[1..close];
            if (close + 1 < target.Length)
            {
                portText = target[(close + 1)..].TrimStart(':');
            }
        }
        else if (target.LastIndexOf(':') is int colon and > 0 && target.IndexOf(':', StringComparison.Ordinal) == colon)
        {
            host = target[..colon];
            portText = target[(colon + 1)..];
        }

        int port = ServerOptions.DefaultPort;
        if (portText is not null && (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535))
        {
            throw new UsageException($"'{target}' is not host:port: the port must be a number from 1 to 65535.");
        }

        if (host.Length == 0)
        {
            throw new UsageException($"'{target}' is not host:port: the host is missing.");
        }

        return (host, port);
    }

    /// <summary>The password, from standard input, the environment variable, or a prompt, in that order.</summary>
    /// <exception cref="UsageException">None can be had.</exception>
    public string ReadPassword(ParseResult parse)
    {
        if (parse.GetValue(PasswordStdin))
        {
            return Console.In.ReadLine() ?? throw new UsageException("--password-stdin: standard input ended before a password.");
        }

        string variable = parse.GetValue(PasswordVariable)!;
        if (Environment.GetEnvironmentVariable(variable) is { } fromEnvironment)
        {
            return fromEnvironment;
        }

        if (Console.IsInputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            throw new UsageException($"No password: set the environment variable {variable}, or use --password-stdin, or run in a terminal to be asked.");
        }

        return AnsiConsole.Prompt(new TextPrompt<string>($"Password for {Markup.Escape(parse.GetValue(User)!)}:").Secret().AllowEmpty());
    }
}

/// <summary>A command that cannot run as given; its message says why, and the exit code is <see cref="ExitCodes.Usage"/>.</summary>
internal sealed class UsageException(string message) : Exception(message);
