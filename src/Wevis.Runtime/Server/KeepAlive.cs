namespace Wevis;

/// <summary>
/// The server's keep-alive policy: a loop, on the server's clock, that looks at every logged-in session often
/// enough to ping those quiet for <see cref="ServerOptions.PingInterval"/> and close those that leave a ping
/// unanswered for <see cref="ServerOptions.PingTimeout"/> (<see cref="Sessions.ServerSession.CheckKeepAlive"/>).
/// </summary>
internal static class KeepAlive
{
    /// <summary>Runs until <paramref name="stopping"/> is cancelled.</summary>
    public static async Task RunAsync(OpenConnections connections, TimeSpan interval, TimeSpan timeout, TimeProvider time, CancellationToken stopping)
    {
        // Four looks per interval or timeout (whichever is shorter), within 10 ms and 1 s: the answer is late by at
        // most a quarter.
        long smallest = (long)Math.Min(interval.TotalMilliseconds, timeout.TotalMilliseconds);
        TimeSpan period = TimeSpan.FromMilliseconds(Math.Clamp(smallest / 4, 10, 1000));
        using var timer = new PeriodicTimer(period, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                long now = time.GetTimestamp();
                foreach (Sessions.ServerSession session in connections.Sessions)
                {
                    session.CheckKeepAlive(now, interval, timeout);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }
}
