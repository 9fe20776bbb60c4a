namespace Wevis.Orleans;

/// <summary>
/// Calls from a gateway to a room's grain while a node may be dying: a call refused because its target silo is gone
/// (it was not delivered) is made again, after a short wait, so the grain is activated on a live node; a call that
/// may have been delivered (a timeout) is not, so no message is handled twice.
/// </summary>
internal static class RoomCalls
{
    private static readonly TimeSpan[] Waits = [TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)];

    public static async Task<T> CallAsync<T>(Func<Task<T>> call)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return await call().ConfigureAwait(false);
            }
            catch (Exception ex) when (attempt < Waits.Length && ex is SiloUnavailableException or OrleansMessageRejectionException)
            {
                await Task.Delay(Waits[attempt]).ConfigureAwait(false);
            }
        }
    }
}
