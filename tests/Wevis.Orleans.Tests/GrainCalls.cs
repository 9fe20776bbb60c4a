using System.Collections.Concurrent;

namespace Wevis.Orleans.Tests;

/// <summary>Counts the grain calls the test cluster's silos take, by interface and method, so tests can bound them.</summary>
internal static class GrainCalls
{
    private static readonly ConcurrentDictionary<string, int> Calls = new(StringComparer.Ordinal);

    public static void Count(string interfaceName, string methodName) =>
        Calls.AddOrUpdate($"{interfaceName[(interfaceName.LastIndexOf('.') + 1)..]}.{methodName}", 1, static (_, n) => n + 1);

    public static void Reset() => Calls.Clear();

    /// <summary>A method ("ISessionGrain.HeldBy") whose calls the silos fail, or null.</summary>
    public static volatile string? Failing;

    /// <summary>Whether the call should fail (<see cref="Failing"/>).</summary>
    public static bool ShouldFail(string interfaceName, string methodName) =>
        Failing is { } failing && failing == $"{interfaceName[(interfaceName.LastIndexOf('.') + 1)..]}.{methodName}";

    /// <summary>The calls to methods of <paramref name="interfaceName"/> (its short name), by method.</summary>
    public static Dictionary<string, int> To(string interfaceName) =>
        Calls.Where(call => call.Key.StartsWith(interfaceName + ".", StringComparison.Ordinal)).ToDictionary(call => call.Key, call => call.Value);
}
