using BenNevis.Rooms;
using Wevis;

namespace BenNevis.Bots;

/// <summary>
/// A bot that plays on a server, as a client over TCP: it logs in, asks to play, plays its <see cref="Strategy"/> in the
/// match it is given, and reads the result.
/// </summary>
public static class NetworkBot
{
    /// <summary>
    /// Plays one match as <paramref name="name"/>, with the strategy of kind <paramref name="kind"/> and random numbers
    /// from <paramref name="seed"/>; returns how the match ended.
    /// </summary>
    /// <param name="name">The player's name.</param>
    /// <param name="kind">One of <see cref="Strategy.Kinds"/>.</param>
    /// <param name="seed">The bot's random numbers: the same seed plays the same way on the same map.</param>
    /// <param name="host">The server's host.</param>
    /// <param name="port">The server's port.</param>
    /// <param name="password">The game's password.</param>
    /// <param name="seated">Completed when the server has given the bot its place in a match, before the match starts.</param>
    /// <param name="cancellationToken">Stops the bot.</param>
    /// <exception cref="LoginRejectedException">The server refused the login (a wrong game password, say).</exception>
    /// <exception cref="WevisException">The connection failed or closed.</exception>
    /// <exception cref="InvalidOperationException">The server refused to put the bot into a match.</exception>
    public static async Task<MatchReport> PlayAsync(
        string name, string kind, ulong seed, string host, int port, string password = GameServer.DefaultPassword, TaskCompletionSource? seated = null, CancellationToken cancellationToken = default)
    {
        Strategy strategy = Strategy.Create(kind);
        await using Client client = GameServer.CreateClient(name, host, port, password);
        try
        {
            await client.ConnectAsync(cancellationToken);
            await NetworkPlayer.EnterMatchAsync(client, cancellationToken);
        }
        catch (Exception ex)
        {
            seated?.TrySetException(ex);
            throw;
        }

        seated?.TrySetResult();
        NetworkPlayer player = await NetworkPlayer.WaitForStartAsync(client, cancellationToken);
        await strategy.PlayAsync(player, new SplitMix64(seed), cancellationToken);
        return await player.ReadResultAsync(cancellationToken);
    }
}
