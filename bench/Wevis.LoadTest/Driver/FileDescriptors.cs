namespace Wevis.LoadTest.Driver;

/// <summary>
/// The process's open-file limit and how many descriptors are open, read from <c>/proc/self</c>. Every client
/// connection holds a descriptor in the driver (and its server holds one in its own process, under the same limit);
/// running out makes the runtime abort ("Out of memory.", SIGABRT) rather than fail one connect, so scenarios are
/// sized against this before they start.
/// </summary>
internal sealed record FileDescriptors(long SoftLimit, long HardLimit, int Open)
{
    /// <summary>Descriptors kept free for the runtime, server processes' pipes, result files and sockets being closed.</summary>
    public const int Reserve = 256;

    /// <summary>How many more client connections this process can hold, at <paramref name="perClient"/> descriptors each.</summary>
    public int ClientsAllowed(int perClient = 1) => (int)Math.Max(0, (SoftLimit - Open - Reserve) / perClient);

    public string Describe() =>
        $"open files: soft limit {Limit(SoftLimit)}, hard limit {Limit(HardLimit)}, {Open} open now: this process can hold about {ClientsAllowed():N0} client connections at once (raw and Wevis clients need one descriptor each, SignalR's about two; each server process has the same limit)";

    /// <summary>Reads the limit; on a system without <c>/proc</c>, reports no limit known (long.MaxValue).</summary>
    public static FileDescriptors Read()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/limits"))
            {
                // "Max open files            20000                20000                files"
                if (line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    string[] parts = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return new FileDescriptors(Parse(parts[0]), Parse(parts[1]), Directory.GetFiles("/proc/self/fd").Length);
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return new FileDescriptors(long.MaxValue, long.MaxValue, 0);
    }

    private static long Parse(string value) => value == "unlimited" ? long.MaxValue : long.Parse(value);

    private static string Limit(long value) => value == long.MaxValue ? "unlimited" : $"{value:N0}";
}
