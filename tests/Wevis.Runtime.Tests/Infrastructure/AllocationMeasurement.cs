namespace Wevis.Runtime.Tests.Infrastructure;

/// <summary>
/// Tests that measure the process's allocations (<see cref="GC.GetTotalAllocatedBytes(bool)"/>) around what a
/// server in this process does: they run alone, after the parallel tests, so no other test's allocations are
/// counted with theirs.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationMeasurement
{
    public const string Name = "Allocation measurement (runs alone)";

    /// <summary>Bytes allocated by the whole process since it started, counted exactly.</summary>
    public static long AllocatedBytes() => GC.GetTotalAllocatedBytes(precise: true);
}
