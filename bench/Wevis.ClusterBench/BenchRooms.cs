using Wevis.ClusterBench.Messages;

namespace Wevis.ClusterBench;

/// <summary>The entry room: does nothing; users go to bench rooms.</summary>
internal sealed class BenchLobby : Room;

/// <summary>Answers a Ping to its sender (a round trip) and broadcasts a Shout to everyone (fan-out).</summary>
internal sealed class BenchRoom : Room
{
    protected override void Handle(Connection connection, IMessage message)
    {
        switch (message)
        {
            case Ping ping:
                connection.Send(new Pong(ping.Seq));
                break;
            case Shout shout:
                Broadcast(new Heard(shout.Seq));
                break;
        }
    }
}
