using CsCheck;

namespace Wevis.Runtime.Tests.Infrastructure;

/// <summary>
/// Property checks with CsCheck generators. In CI every run draws the same values from a fixed seed, so a
/// failure reproduces exactly. Set <c>WEVIS_PROPERTY_SECONDS</c> to run each property for that many seconds
/// with fresh random seeds and CsCheck's shrinking instead (for hunting bugs outside CI).
/// </summary>
internal static class Property
{
    public const string LongModeVariable = "WEVIS_PROPERTY_SECONDS";

    public static void Check<T>(Gen<T> gen, Action<T> property, int iterations = 1_000, ulong seed = 20261124)
    {
        if (int.TryParse(Environment.GetEnvironmentVariable(LongModeVariable), out int seconds) && seconds > 0)
        {
            gen.Sample(property, time: seconds);
            return;
        }

        var pcg = new PCG(1, seed);
        for (int i = 0; i < iterations; i++)
        {
            T value = gen.Generate(pcg, null, out _);
            try
            {
                property(value);
            }
            catch (Exception ex)
            {
                throw new Xunit.Sdk.XunitException($"Property failed at iteration {i} (seed {seed}) for input {CsCheck.Check.Print(value)}: {ex.Message}", ex);
            }
        }
    }
}
