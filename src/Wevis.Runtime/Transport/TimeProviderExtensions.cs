namespace Wevis.Transport;

/// <summary>Reading a <see cref="TimeProvider"/> as a millisecond tick count, the unit the connections compare times in.</summary>
internal static class TimeProviderExtensions
{
    /// <summary>
    /// Milliseconds on <paramref name="time"/>'s monotonic clock, to subtract from one another, as
    /// <see cref="Environment.TickCount64"/> is (and is, for the system clock: the cheapest read of it).
    /// </summary>
    public static long GetTickCount64(this TimeProvider time) =>
        ReferenceEquals(time, TimeProvider.System)
            ? Environment.TickCount64
            : (long)(time.GetTimestamp() * (1000.0 / time.TimestampFrequency));
}
