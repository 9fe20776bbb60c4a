using Wevis.Protocol;
using Wevis.Transport;

namespace Wevis.Sessions;

/// <summary>
/// The protocol messages both sides handle the same way once logged in: <c>_Ping</c> is answered with
/// <c>_Pong</c>, <c>_Pong</c> needs nothing (any frame shows the peer is alive), and <c>_Closing</c> closes.
/// </summary>
internal static class SessionProtocol
{
    /// <summary>What handling a message did.</summary>
    public enum Outcome
    {
        /// <summary>Not a keep-alive or closing message: the caller handles it.</summary>
        NotHandled,

        /// <summary>A ping or pong, answered if needed.</summary>
        Handled,

        /// <summary>The peer said it is closing: the connection is closing, with the peer's reason.</summary>
        PeerClosing,
    }

    /// <summary>Handles <paramref name="message"/> if it is <c>_Ping</c>, <c>_Pong</c> or <c>_Closing</c>.</summary>
    /// <param name="transport">The connection it came on.</param>
    /// <param name="message">The message.</param>
    /// <param name="peer">What the peer is, for the close reason ("client", "server").</param>
    public static Outcome Handle(MessageConnection transport, IMessage message, string peer)
    {
        switch (message)
        {
            case Ping:
                transport.TrySend(new Pong());
                return Outcome.Handled;
            case Pong:
                return Outcome.Handled;
            case Closing closing:
                transport.Close($"the {peer} closed the connection: {closing.Reason}");
                return Outcome.PeerClosing;
            default:
                return Outcome.NotHandled;
        }
    }
}
