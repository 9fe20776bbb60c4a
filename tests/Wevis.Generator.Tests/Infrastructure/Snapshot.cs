using System.Runtime.CompilerServices;

namespace Wevis.Generator.Tests.Infrastructure;

/// <summary>
/// Golden-file checks in the manner of Verify: <c>Snapshots/{name}.verified.cs</c> is checked in; on a mismatch
/// the new output is written beside it as <c>{name}.received.cs</c> and the test fails. Review the difference,
/// then accept every received file by running the tests with <c>WEVIS_ACCEPT_SNAPSHOTS=1</c> (or rename it).
/// </summary>
internal static class Snapshot
{
    public const string AcceptVariable = "WEVIS_ACCEPT_SNAPSHOTS";

    public static void Match(string actual, string name, [CallerFilePath] string callerFile = "")
    {
        string directory = Path.Combine(Path.GetDirectoryName(callerFile)!, "Snapshots");
        Assert.True(Directory.Exists(directory), $"The snapshot folder {directory} does not exist; the tests must run from a source checkout.");
        string verifiedPath = Path.Combine(directory, name + ".verified.cs");
        string receivedPath = Path.Combine(directory, name + ".received.cs");
        string normalized = Normalize(actual);

        if (File.Exists(verifiedPath) && Normalize(File.ReadAllText(verifiedPath)) == normalized)
        {
            File.Delete(receivedPath);
            return;
        }

        if (Environment.GetEnvironmentVariable(AcceptVariable) == "1")
        {
            File.WriteAllText(verifiedPath, normalized);
            File.Delete(receivedPath);
            return;
        }

        File.WriteAllText(receivedPath, normalized);
        string expected = File.Exists(verifiedPath) ? Normalize(File.ReadAllText(verifiedPath)) : string.Empty;
        Assert.Fail(
            $"{name}: the generated source differs from {verifiedPath} ({FirstDifference(expected, normalized)}). "
            + $"The new output is in {receivedPath}; if it is right, accept it with {AcceptVariable}=1.");
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal).TrimStart('\uFEFF');

    private static string FirstDifference(string expected, string actual)
    {
        if (expected.Length == 0)
        {
            return "no verified file yet";
        }

        string[] expectedLines = expected.Split('\n');
        string[] actualLines = actual.Split('\n');
        for (int i = 0; i < Math.Max(expectedLines.Length, actualLines.Length); i++)
        {
            string? e = i < expectedLines.Length ? expectedLines[i] : null;
            string? a = i < actualLines.Length ? actualLines[i] : null;
            if (e != a)
            {
                return $"first difference at line {i + 1}: expected '{e}', got '{a}'";
            }
        }

        return "they differ only in line endings";
    }
}
