using Example;
using Wevis.LoadTest.Messages;

namespace Wevis.LoadTest.Servers;

/// <summary>
/// The load test's room: answers <c>WhatTimeIsIt</c> with <c>ItIs</c> (a round trip) and repeats a <c>Shout</c> to
/// everyone in the room as <c>Heard</c> (fan-out). The cluster benchmark runs the same room on an Orleans cluster.
/// </summary>
internal sealed class TimeRoom : Room
{
    protected override void Handle(Connection connection, IMessage message)
    {
        if (message is WhatTimeIsIt)
        {
            DateTime now = DateTime.UtcNow;
            connection.Send(new ItIs(now.Hour, now.Minute));
        }
        else if (message is Shout shout)
        {
            Broadcast(new Heard(shout.Seq));
        }
    }
}
