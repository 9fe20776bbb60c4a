using System.CommandLine;

namespace Wevis.Cli.Tests;

/// <summary>Runs one of the tool's commands in this process, as <c>wevis …</c> would run it, capturing what it prints.</summary>
internal static class InProcessCommand
{
    /// <summary>The environment variable that holds the password for these runs (<c>--password-env</c>).</summary>
    public const string PasswordVariable = "WEVIS_CLI_TESTS_PASSWORD";

    /// <summary>A port nothing listens on: a client that gets as far as connecting fails there.</summary>
    public const string NowhereTarget = "127.0.0.1:1";

    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(Command command, params string[] arguments)
    {
        Environment.SetEnvironmentVariable(PasswordVariable, "mypassword");
        using var output = new StringWriter();
        using var error = new StringWriter();
        int exitCode = await new RootCommand { command }.Parse(arguments).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (exitCode, output.ToString(), error.ToString());
    }
}
