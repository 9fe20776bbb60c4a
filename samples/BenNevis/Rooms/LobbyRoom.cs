using BenNevis.Matches;
using BenNevis.Messages;
using Wevis;

namespace BenNevis.Rooms;

/// <summary>
/// The entry room: every player is here after logging in and after each match. <c>Play</c> puts them into a match
/// (the first one still waiting for players, or a new one), <c>ShowLeaderboard</c> shows the table across matches.
/// </summary>
internal sealed class LobbyRoom(MatchHistory history) : Room
{
    protected override async ValueTask HandleAsync(Connection connection, IMessage message)
    {
        switch (message)
        {
            case Play:
                // Join-or-create is atomic per room type: players who ask at once fill one match before the next is made.
                JoinResult result = await JoinOrCreateAsync(connection, GameServer.MatchType);
                if (!result.Accepted)
                {
                    Refuse(connection, $"Play: no match could take you: {result.RefusalReason}.");
                }

                break;
            case ShowLeaderboard:
                foreach (IServerMessage row in MatchProtocol.Table(history.Leaderboard()))
                {
                    connection.Send(row);
                }

                break;
            case Done:
                // A player whose budget ran out is moved here with the end of the match, before their Done arrives.
                break;
            default:
                Refuse(connection, $"{message.Descriptor.Name}: you are in the lobby; send Play to join a match.");
                break;
        }
    }

    private void Refuse(Connection connection, string reason)
    {
        connection.Send(new Refused(reason));
        GameLog.Refused(Logger, connection.User.Name, reason);
    }
}
