namespace Wevis.Orleans;

/// <summary>
/// Calls from a gateway to a room's grain while a node may be dying. <see cref="CallAsync{T}"/>: a call refused
/// because its target silo is gone (it was not delivered) is made again, after a short wait on the node's clock (the
/// gateway's <see cref="ServerOptions.TimeProvider"/>, as every wait here), so the grain is activated on a live node. <see cref="CallPatientlyAsync{T}"/>, for calls the room can tell apart when they come twice
/// (deliveries carry the number of their first message; an entry made again is answered as the first was): a call that
/// may have been delivered (a timeout) is made again too, for as long as the caller can wait.
/// </summary>
internal static class RoomCalls
{
    private static readonly TimeSpan[] Waits = [TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)];

    /// <summary>
    /// Makes <paramref name="call"/>, and again after each refusal by a gone silo (waiting 100 ms, then up to 4 s, on
    /// <paramref name="time"/>), at most five times more; then the refusal is thrown.
    /// </summary>
    public static async Task<T> CallAsync<T>(Func<Task<T>> call, TimeProvider time)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return await call().ConfigureAwait(false);
            }
            catch (Exception ex) when (attempt < Waits.Length && IsRefused(ex))
            {
                await Task.Delay(Waits[attempt], time).ConfigureAwait(false);
            }
        }
    }

    /// <summary>As <see cref="CallAsync{T}"/>, for a call with no answer.</summary>
    public static Task CallAsync(Func<Task> call, TimeProvider time) => CallAsync(async () =>
    {
        await call().ConfigureAwait(false);
        return true;
    }, time);

    /// <summary>
    /// Makes <paramref name="call"/> until it answers, again after each refusal or timeout (waiting 100 ms, then up to
    /// 2 s between attempts), for at most <paramref name="patience"/>; then the last failure is thrown.
    /// </summary>
    public static async Task<T> CallPatientlyAsync<T>(Func<Task<T>> call, TimeSpan patience, TimeProvider time)
    {
        long started = time.GetTimestamp();
        TimeSpan wait = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                return await call().ConfigureAwait(false);
            }
            catch (Exception ex) when ((IsRefused(ex) || ex is TimeoutException) && time.GetElapsedTime(started) + wait < patience)
            {
                await Task.Delay(wait, time).ConfigureAwait(false);
                wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
            }
        }
    }

    /// <summary>As <see cref="CallPatientlyAsync{T}"/>, for a call with no answer.</summary>
    public static Task CallPatientlyAsync(Func<Task> call, TimeSpan patience, TimeProvider time) => CallPatientlyAsync(async () =>
    {
        await call().ConfigureAwait(false);
        return true;
    }, patience, time);

    private static bool IsRefused(Exception ex) => ex is SiloUnavailableException or OrleansMessageRejectionException;
}
