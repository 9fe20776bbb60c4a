using System.Runtime.InteropServices;

namespace Wevis.Runtime.Tests.Infrastructure;

/// <summary>
/// Lowers this process's limit on open file descriptors (Linux's RLIMIT_NOFILE) so that no new descriptor can be
/// opened, as when a server runs out of them, and puts it back on dispose. While it is lowered nothing in the
/// process can open a socket or a file: use it only in tests that run alone (<see cref="RunsAlone"/>), briefly,
/// with every socket the test needs opened beforehand.
/// </summary>
internal sealed class FileDescriptorLimit : IDisposable
{
    private const int RlimitNofile = 7;

    private readonly RLimit _saved;

    private FileDescriptorLimit(RLimit saved) => _saved = saved;

    /// <summary>Whether this platform can do it (Linux).</summary>
    public static bool IsSupported => OperatingSystem.IsLinux();

    /// <summary>Lowers the limit to the lowest descriptor number not in use: every number below it is taken.</summary>
    public static FileDescriptorLimit Exhaust()
    {
        Check(GetRLimit(RlimitNofile, out RLimit saved) == 0, "getrlimit");
        long lowestFree;
        using (FileStream probe = File.OpenRead("/dev/null"))
        {
            lowestFree = probe.SafeFileHandle.DangerousGetHandle();
        }

        Check(SetRLimit(RlimitNofile, saved with { Current = (ulong)lowestFree }) == 0, "setrlimit");
        return new FileDescriptorLimit(saved);
    }

    public void Dispose() => Check(SetRLimit(RlimitNofile, _saved) == 0, "setrlimit (restoring the limit)");

    private static void Check(bool ok, string call)
    {
        if (!ok)
        {
            throw new InvalidOperationException($"{call} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [DllImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static extern int GetRLimit(int resource, out RLimit limit);

    [DllImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static extern int SetRLimit(int resource, in RLimit limit);

    [StructLayout(LayoutKind.Sequential)]
    private record struct RLimit(ulong Current, ulong Maximum);
}

/// <summary>Tests that change something process-wide (the file descriptor limit): they run alone, after the parallel tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RunsAlone
{
    public const string Name = "Process-wide changes (runs alone)";
}
