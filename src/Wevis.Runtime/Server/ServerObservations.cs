using System.Diagnostics.Metrics;
using Wevis.Diagnostics;
using Wevis.Sessions;

namespace Wevis;

/// <summary>
/// The server's states as its metrics see them when a listener collects: open connections, logged-in sessions,
/// queued bytes, rooms by type. Read only then, so they cost nothing between collections.
/// </summary>
internal sealed class ServerObservations(OpenConnections connections, Func<ServerLogin?> login, RoomDirectory rooms) : IServerObservations
{
    public int OpenConnections => connections.Count;

    public int LoggedInSessions => login()?.LoggedIn ?? 0;

    public long QueuedBytes
    {
        get
        {
            long sum = 0;
            foreach (ServerSession session in connections.Sessions)
            {
                sum += session.Transport.QueuedBytes;
            }

            return sum;
        }
    }

    public long MostQueuedBytes
    {
        get
        {
            long most = 0;
            foreach (ServerSession session in connections.Sessions)
            {
                most = Math.Max(most, session.Transport.QueuedBytes);
            }

            return most;
        }
    }

    public IEnumerable<Measurement<long>> RoomsByType() =>
        rooms.List()
            .GroupBy(room => room.Type, StringComparer.Ordinal)
            .Select(type => new Measurement<long>(type.Count(), new KeyValuePair<string, object?>(ServerMetrics.RoomTypeTag, type.Key)));
}
