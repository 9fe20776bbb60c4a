using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Wevis.Sessions;
using Wevis.Transport;

namespace Wevis.Orleans;

/// <summary>
/// A silo's Wevis gateway: a Wevis server that terminates TCP (and TLS) and logs users in as a single server does,
/// then, instead of handing their messages to rooms of its own, forwards them to their rooms' grains, and takes what
/// rooms send its users (as the grain observer <see cref="IGatewayObserver"/>). It starts when the silo is active
/// and stops before the silo leaves the cluster.
/// </summary>
internal sealed class WevisGateway(WevisClusterOptions options, NodeRooms node, IGrainFactory grains, ILocalSiloDetails silo)
    : IGatewayObserver, ILifecycleParticipant<ISiloLifecycle>
{
    // A batch per thread, reused: Receive runs synchronously start to end, so a thread needs one at a time.
    [ThreadStatic]
    private static FlushBatch? t_batch;

    private readonly ConcurrentDictionary<long, GatewayUser> _users = new();
    private Server? _server;
    private object _flushGroup = new();
    private long _receiveCalls;

    /// <summary>The gateway's id: its silo's address, which tells rooms whose users died with a silo.</summary>
    public string Id { get; } = silo.SiloAddress.ToParsableString();

    public IGatewayObserver Observer { get; private set; } = null!;

    public NodeRooms Node => node;

    /// <summary>The port the gateway listens on.</summary>
    /// <exception cref="InvalidOperationException">The gateway has not started.</exception>
    public int Port => _server?.Port ?? throw new InvalidOperationException("The Wevis gateway has not started.");

    /// <summary>
    /// For tests: the gateway behaves as if its process had vanished, telling rooms nothing from now on (an
    /// in-process silo's kill still stops its services, which would let users leave in good order).
    /// </summary>
    internal bool IsCrashed { get; set; }

    /// <summary>The users connected here.</summary>
    public ICollection<GatewayUser> Users => _users.Values;

    /// <summary>For tests: how many calls of <see cref="Receive"/> there have been.</summary>
    internal long ReceiveCalls => Volatile.Read(ref _receiveCalls);

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(WevisGateway), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    /// <summary>
    /// Hands one call's records to the users, inside one flush batch of the server's connections: each connection is
    /// flushed once when the call's records are done, as when a single server's room broadcasts, not once per frame.
    /// </summary>
    public Task Receive(byte[] records)
    {
        Interlocked.Increment(ref _receiveCalls);
        object group = _flushGroup;
        FlushBatch batch = t_batch is { } spare && ReferenceEquals(spare.Group, group) ? spare : new FlushBatch(group);
        t_batch = null;
        try
        {
            using (batch.Enter())
            {
                Deliver(records);
            }
        }
        finally
        {
            // Also after malformed records: a connection left waiting for this batch would never flush again.
            batch.FlushAll();
            t_batch = batch;
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// How long a user's messages wait for their room to answer while its node may be dying (it comes back on a live
    /// node once the dead one is declared so): as long as a dropped session waits for its client, at least 10 s.
    /// </summary>
    public TimeSpan RoomPatience => options.Gateway.ResumeGracePeriod > TimeSpan.FromSeconds(10) ? options.Gateway.ResumeGracePeriod : TimeSpan.FromSeconds(10);

    public TimeProvider Time => options.Gateway.TimeProvider;

    private void Deliver(ReadOnlySpan<byte> records)
    {
        while (!records.IsEmpty)
        {
            GatewayRecord record = GatewayRecords.Read(ref records);
            GatewayUser? user;
            switch (record.Kind)
            {
                case GatewayRecords.Frame:
                    SendFrame(record.Session, record.Frame);
                    break;
                case GatewayRecords.Repeat:
                    SendFrame(record.Session, record.Frame);
                    for (int i = 0; i < record.MoreCount; i++)
                    {
                        SendFrame(record.More(i), record.Frame);
                    }

                    break;
                case GatewayRecords.Close when _users.TryGetValue(record.Session, out user):
                    user.Session.Close(record.Reason!);
                    break;
                case GatewayRecords.Move when _users.TryGetValue(record.Session, out user):
                    user.QueueMove(record.Move!);
                    break;
            }
        }
    }

    private void SendFrame(long session, ReadOnlySpan<byte> frame)
    {
        if (_users.TryGetValue(session, out GatewayUser? user))
        {
            user.Session.Transport.TrySendFrame(frame);
        }
    }

    internal void Add(GatewayUser user) => _users[user.Key] = user;

    internal void Remove(GatewayUser user) => _users.TryRemove(new KeyValuePair<long, GatewayUser>(user.Key, user));

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        Observer = grains.CreateObjectReference<IGatewayObserver>(this);
        var server = new Server(options.Validator, new NoEntryRoom(), options.Gateway)
        {
            SessionHost = session => new GatewayUser(session, this),
        };
        await server.StartAsync(cancellationToken).ConfigureAwait(false);
        _flushGroup = server.Rooms.FlushGroup;
        _server = server;
        OrleansLog.GatewayStarted(node.Logger, Id, server.EndPoint);
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is { } server)
        {
            await server.StopAsync(cancellationToken).ConfigureAwait(false);
        }

        grains.DeleteObjectReference<IGatewayObserver>(this);
    }
}
