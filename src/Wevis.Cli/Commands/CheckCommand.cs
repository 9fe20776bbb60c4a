using System.CommandLine;
using Microsoft.CodeAnalysis;
using Wevis.Cli.Definitions;

namespace Wevis.Cli.Commands;

/// <summary>
/// <c>wevis check file.wevis …</c>: the diagnostics the build would report for these files together (with each one's
/// lock file, <c>file.wevis.lock</c>, where there is one), in the compiler's format
/// (<c>file.wevis(3,10): error WEVIS002: …</c>); exit code 1 if any is an error.
/// </summary>
internal static class CheckCommand
{
    public static Command Create()
    {
        var files = new Argument<string[]>("files") { Description = "The .wevis files, checked together as one project's.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("check", "Check .wevis files as the build would: print its diagnostics; exit 1 on errors.") { files };
        command.SetAction(parse =>
        {
            TextWriter output = parse.InvocationConfiguration.Output;
            LoadedDefinitions definitions;
            try
            {
                definitions = DefinitionsLoader.Load(parse.GetValue(files)!);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                parse.InvocationConfiguration.Error.WriteLine(ex.Message);
                return ExitCodes.Usage;
            }

            foreach (Diagnostic diagnostic in definitions.Diagnostics)
            {
                output.WriteLine(diagnostic.ToString());
            }

            int errors = definitions.Diagnostics.Count(d => d.Severity == DiagnosticSeverity.Error);
            int warnings = definitions.Diagnostics.Count(d => d.Severity == DiagnosticSeverity.Warning);
            output.WriteLine(errors == 0
                ? $"{definitions.Messages.Count} message(s), {warnings} warning(s), no errors; fingerprint {definitions.Registry.Fingerprint}"
                : $"{errors} error(s), {warnings} warning(s)");
            return errors == 0 ? ExitCodes.Success : ExitCodes.Usage;
        });
        return command;
    }
}
