namespace Wevis.Testing;

/// <summary>
/// Waits for what a <see cref="Client"/> receives with a bound on real time, so a test that expects a message fails
/// with the message's name instead of hanging. The bound is the real clock's even when the server runs on a fake one.
/// </summary>
public static class ClientTestExtensions
{
    /// <summary>
    /// Waits for a <typeparamref name="T"/>, taking the first one already queued; messages of other types that arrive
    /// before it stay queued, in order (as <see cref="Client.WaitForAsync{T}(CancellationToken)"/>).
    /// </summary>
    /// <param name="client">A logged-in client.</param>
    /// <param name="timeout">How long to wait, on the real clock.</param>
    /// <exception cref="TimeoutException">No <typeparamref name="T"/> arrived within <paramref name="timeout"/>.</exception>
    /// <exception cref="ConnectionClosedException">The connection closed first.</exception>
    public static async Task<T> WaitForAsync<T>(this Client client, TimeSpan timeout)
        where T : IMessage
    {
        ArgumentNullException.ThrowIfNull(client);
        using var bound = new CancellationTokenSource(timeout);
        try
        {
            return await client.WaitForAsync<T>(bound.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (bound.IsCancellationRequested)
        {
            throw new TimeoutException($"No {typeof(T).Name} arrived within {timeout.TotalSeconds:0.###} s.");
        }
    }

    /// <summary>Waits for the next message, which must be a <typeparamref name="T"/> (as <see cref="Client.ReceiveAsync{T}(CancellationToken)"/>).</summary>
    /// <param name="client">A logged-in client.</param>
    /// <param name="timeout">How long to wait, on the real clock.</param>
    /// <exception cref="TimeoutException">No message arrived within <paramref name="timeout"/>.</exception>
    /// <exception cref="UnexpectedMessageException">The next message is of another type (it is consumed).</exception>
    /// <exception cref="ConnectionClosedException">The connection closed first.</exception>
    public static async Task<T> ReceiveAsync<T>(this Client client, TimeSpan timeout)
        where T : IMessage
    {
        ArgumentNullException.ThrowIfNull(client);
        using var bound = new CancellationTokenSource(timeout);
        try
        {
            return await client.ReceiveAsync<T>(bound.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (bound.IsCancellationRequested)
        {
            throw new TimeoutException($"No message arrived within {timeout.TotalSeconds:0.###} s (expected a {typeof(T).Name}).");
        }
    }

    /// <summary>Waits for the connection to close and returns why; messages that arrive meanwhile are taken and dropped.</summary>
    /// <param name="client">A logged-in client.</param>
    /// <param name="timeout">How long to wait, on the real clock.</param>
    /// <returns>Why the connection closed: its <see cref="ConnectionClosedException.Reason"/> (for a close by the server, "the server closed the connection: " and the server's reason).</returns>
    /// <exception cref="TimeoutException">The connection was still open after <paramref name="timeout"/>.</exception>
    public static async Task<string> WaitForCloseAsync(this Client client, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(client);
        using var bound = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                await client.ReceiveAsync(bound.Token).ConfigureAwait(false);
            }
        }
        catch (ConnectionClosedException closed)
        {
            return closed.Reason;
        }
        catch (OperationCanceledException) when (bound.IsCancellationRequested)
        {
            throw new TimeoutException($"The connection was still open after {timeout.TotalSeconds:0.###} s.");
        }
    }
}
