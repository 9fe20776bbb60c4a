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
    private readonly CancellationTokenSource _stopping = new();
    private Server? _server;
    private object _flushGroup = new();
    private long _receiveCalls;
    private long _repeatsDropped;
    private readonly ConcurrentDictionary<long, OutboxProgress> _outboxes = new();
    private readonly Dictionary<string, (List<long> Sessions, List<long> Received)> _forwarding = new(StringComparer.Ordinal); // reused; its lock is the forwarding's
    private Task _acknowledging = Task.CompletedTask;
    private int _forwardQueued;
    private volatile bool _crashed;

    /// <summary>The gateway's id: its silo's address, which tells rooms whose users died with a silo.</summary>
    public string Id { get; } = silo.SiloAddress.ToParsableString();

    public IGatewayObserver Observer { get; private set; } = null!;

    public NodeRooms Node => node;

    /// <summary>The port the gateway listens on.</summary>
    /// <exception cref="InvalidOperationException">The gateway has not started.</exception>
    public int Port => _server?.Port ?? throw new InvalidOperationException("The Wevis gateway has not started.");

    /// <summary>Whether the gateway has crashed (<see cref="Crash"/>): it tells rooms and session grains nothing any more.</summary>
    internal bool IsCrashed => _crashed;

    /// <summary>How often the gateway forwards its clients' acknowledgements to their rooms (one call per room).</summary>
    internal static TimeSpan AcknowledgeInterval { get; } = TimeSpan.FromSeconds(1);

    /// <summary>How much a resumable user is sent before their client's acknowledgements are forwarded without waiting for the second.</summary>
    internal const int AcknowledgeSoonBytes = 1024 * 1024;

    /// <summary>The users connected here.</summary>
    public ICollection<GatewayUser> Users => _users.Values;

    /// <summary>For tests: how many calls of <see cref="Receive"/> there have been.</summary>
    internal long ReceiveCalls => Volatile.Read(ref _receiveCalls);

    /// <summary>For tests: how many calls of <see cref="Receive"/> were dropped as repeats of calls this gateway had.</summary>
    internal long RepeatsDropped => Volatile.Read(ref _repeatsDropped);

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(WevisGateway), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    /// <summary>
    /// Hands one call's records to the users, inside one flush batch of the server's connections: each connection is
    /// flushed once when the call's records are done, as when a single server's room broadcasts, not once per frame.
    /// </summary>
    /// <remarks>
    /// A numbered call (<paramref name="number"/> above 0) whose number this gateway has had from the same outbox
    /// (<paramref name="stream"/>) is dropped: the room made it again because its answer did not come, and the first
    /// ran. Each outbox's calls are checked and handed over one at a time, under its entry's lock.
    /// </remarks>
    public Task Receive(long stream, long number, byte[] records)
    {
        Interlocked.Increment(ref _receiveCalls);
        if (number == 0)
        {
            DeliverInBatch(records);
            return Task.CompletedTask;
        }

        OutboxProgress progress = _outboxes.GetOrAdd(stream, static _ => new OutboxProgress());
        lock (progress)
        {
            progress.Touched = Time.GetTimestamp();
            if (number <= progress.Last)
            {
                Interlocked.Increment(ref _repeatsDropped);
                return Task.CompletedTask;
            }

            progress.Last = number;
            DeliverInBatch(records);
        }

        return Task.CompletedTask;
    }

    private void DeliverInBatch(byte[] records)
    {
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
    }

    /// <summary>The last call a room's outbox made here (by its stream), and when it was last heard from.</summary>
    private sealed class OutboxProgress
    {
        public long Last;
        public long Touched;
    }

    /// <summary>
    /// How long the gateway remembers an outbox it has not heard from: far longer than a call can take to arrive (Orleans
    /// drops a request older than its response timeout), so a late copy of a call finds its number here.
    /// </summary>
    internal static TimeSpan OutboxMemory { get; } = TimeSpan.FromMinutes(10);

    /// <summary>Forgets outboxes not heard from within <see cref="OutboxMemory"/>: their rooms are gone, or their users left.</summary>
    private void ForgetQuietOutboxes()
    {
        foreach (KeyValuePair<long, OutboxProgress> entry in _outboxes)
        {
            if (Time.GetElapsedTime(Volatile.Read(ref entry.Value.Touched)) > OutboxMemory)
            {
                _outboxes.TryRemove(entry);
            }
        }
    }

    public async Task HandOver(long session)
    {
        // A crashed gateway is gone as far as anyone can tell: it answers nothing it could act on.
        if (!_crashed && _users.TryGetValue(session, out GatewayUser? user))
        {
            await user.HandOverAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// For tests: the gateway behaves as if its process had vanished. Its server stops listening and cuts every
    /// connection abruptly, and from now on it tells rooms and session grains nothing (no leaves, no goodbyes): an
    /// in-process silo's kill would otherwise stop its services in good order, letting users leave.
    /// </summary>
    internal void Crash()
    {
        _crashed = true;
        _stopping.Cancel();
        _server?.Vanish();
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
            // Through the user, not straight to the transport: a session being taken over holds its frames.
            user.SendFrame(frame);
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
            ResumeElsewhere = ResumeElsewhereAsync,
        };
        await server.StartAsync(cancellationToken).ConfigureAwait(false);
        _flushGroup = server.Rooms.FlushGroup;
        _server = server;
        _acknowledging = ForwardAcknowledgementsAsync(_stopping.Token);
        OrleansLog.GatewayStarted(node.Logger, Id, server.EndPoint);
    }

    /// <summary>
    /// A client resumes here a session this gateway does not hold (its gateway died, or it is alive but the client
    /// reconnected here): the session's grain says where it was, the old gateway (if alive) lets it go, and the user's
    /// room switches to this gateway and hands over what the client has not acknowledged.
    /// </summary>
    private async ValueTask<SessionElsewhere> ResumeElsewhereAsync(ServerSession session, User user, string token)
    {
        string key = SessionKeys.Key(token);
        // Patiently: the session's grain may have died with the gateway's silo and come back elsewhere (from the store).
        byte[] verifier = SessionKeys.Verifier(token);
        ISessionGrain record = node.Grains.GetGrain<ISessionGrain>(key);
        SessionClaim claim = await RoomCalls.CallPatientlyAsync(() => record.Claim(verifier, user.Name), RoomPatience, Time).ConfigureAwait(false);
        if (claim.Refusal is null && claim.Room is not null && claim.Gateway is { } previous && claim.GatewayId != Id)
        {
            try
            {
                // Alive, it finishes what it is handing the room and lets go; dead, the call fails (or times out).
                await previous.HandOver(claim.Session).WaitAsync(HandOverTimeout, Time).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                OrleansLog.HandOverFailed(node.Logger, ex, claim.GatewayId!, user.Name);
            }

            // Read again: what the old gateway finished before letting go may have been a room change (it told the
            // record), and the takeover must go to the room the user is in now, or it is refused and nobody holds them.
            SessionClaim before = claim;
            claim = await RoomCalls.CallPatientlyAsync(() => record.Claim(verifier, user.Name), RoomPatience, Time).ConfigureAwait(false);
            if (claim.Refusal is null && (claim.GatewayId, claim.Session) != (before.GatewayId, before.Session))
            {
                // Another resume of the session took it meanwhile, from a gateway that was not asked to let go: the first won.
                OrleansLog.TakeOverRefused(node.Logger, user.Name, RoomGrain.TakenOverRefusal);
                return SessionElsewhere.Refused(RoomGrain.TakenOverRefusal);
            }
        }

        if (claim.Refusal is not null || claim.Room is null)
        {
            string refusal = claim.Refusal ?? "the session was moving between rooms";
            OrleansLog.TakeOverRefused(node.Logger, user.Name, refusal);
            return SessionElsewhere.Refused(refusal);
        }

        // One takeover newer than the holder the record knows (the room raises it if the record lags behind it): the record
        // then takes this gateway's word over that one's.
        var clusterUser = new ClusterUser(Id, session.Id, user.Name, Observer, Resumable: true, key, claim.Holding + 1);
        GatewayUser adopting = GatewayUser.Adopting(session, this, clusterUser);
        // Registered before the room switches: frames it sends from then on reach this user, and wait for the replay.
        Add(adopting);
        TakeOverResult result;
        try
        {
            result = await RoomCalls.CallPatientlyAsync(() => node.Room(claim.Room).TakeOver(claim.GatewayId!, claim.Session, clusterUser), RoomPatience, Time).ConfigureAwait(false);
        }
        catch (Exception)
        {
            Remove(adopting);
            try
            {
                // The room may have switched the user here in a call whose answer never came: it must not keep them
                // switched to a session this gateway no longer has, or the client's next resume would be refused.
                await RoomCalls.CallAsync(() => node.Room(claim.Room).AbandonTakeOver(clusterUser), Time).ConfigureAwait(false);
            }
            catch (Exception abandonFailed)
            {
                OrleansLog.ClusterCallFailed(node.Logger, abandonFailed, user.Name);
            }

            throw;
        }

        if (result.Refusal is not null)
        {
            Remove(adopting);
            OrleansLog.TakeOverRefused(node.Logger, user.Name, result.Refusal);
            return SessionElsewhere.Refused(result.Refusal);
        }

        clusterUser = clusterUser with { Holding = Math.Max(clusterUser.Holding, result.Holding) };
        adopting.Adopted(claim.Room, claim.Type!, result.Handled, clusterUser);
        try
        {
            await RoomCalls.CallAsync(() => record.HeldBy(clusterUser), Time).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The session goes on here; only a resume after this gateway's own death depends on the record.
            OrleansLog.SessionRecordFailed(node.Logger, ex, user.Name);
        }

        OrleansLog.SessionTakenOver(node.Logger, user.Name, claim.GatewayId!, claim.Room, result.Frames!.Length);
        return new SessionElsewhere(adopting, result.Handled, result.Acknowledged, result.Frames, null);
    }

    /// <summary>How long a resume waits for the gateway that held the session to let it go, before taking it for dead.</summary>
    private static TimeSpan HandOverTimeout => TimeSpan.FromSeconds(3);

    /// <summary>
    /// Once a second, tells each room how far its users' clients (here) have acknowledged, so it stops holding those
    /// frames: one call per room with news, whatever the number of messages. Sooner when a user is sent much
    /// (<see cref="AcknowledgeSoon"/>).
    /// </summary>
    private async Task ForwardAcknowledgementsAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(AcknowledgeInterval, Time);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                ForwardAcknowledgements();
                ForgetQuietOutboxes();
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// A user was sent <see cref="AcknowledgeSoonBytes"/> since this was last asked for them: their room holds those
    /// frames until it hears the client has them, within a bound (<c>MaxUnacknowledgedBytes</c>, 4 MiB by default)
    /// that a second of a fast stream would pass, ending the session's resumability elsewhere. So the
    /// acknowledgements go now, on a thread-pool thread (asks made meanwhile are covered by the same pass).
    /// </summary>
    internal void AcknowledgeSoon()
    {
        if (_crashed || _stopping.IsCancellationRequested)
        {
            return;
        }

        if (Interlocked.CompareExchange(ref _forwardQueued, 1, 0) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static gateway =>
            {
                Volatile.Write(ref gateway._forwardQueued, 0);
                gateway.ForwardAcknowledgements();
            }, this, preferLocal: false);
        }
    }

    /// <summary>Tells each room with news how far its users' clients have acknowledged: one one-way call per room.</summary>
    private void ForwardAcknowledgements()
    {
        lock (_forwarding)
        {
            if (_crashed || _stopping.IsCancellationRequested)
            {
                // A crashed gateway tells rooms nothing; a stopped one has no more to tell.
                return;
            }

            foreach (GatewayUser user in _users.Values)
            {
                if (user.Room is { } room && user.TakeAcknowledgement(out long received))
                {
                    if (!_forwarding.TryGetValue(room, out var pending))
                    {
                        _forwarding[room] = pending = ([], []);
                    }

                    pending.Sessions.Add(user.Key);
                    pending.Received.Add(received);
                }
            }

            foreach ((string room, var pending) in _forwarding)
            {
                try
                {
                    // One-way: a lost acknowledgement only keeps frames a little longer (the next one covers it).
                    _ = node.Room(room).Acknowledge(Id, [.. pending.Sessions], [.. pending.Received]);
                }
                catch (Exception ex)
                {
                    OrleansLog.SessionRecordFailed(node.Logger, ex, "users in room " + room);
                }
            }

            _forwarding.Clear();
        }
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        await _acknowledging.ConfigureAwait(false);
        if (_server is { } server)
        {
            await server.StopAsync(cancellationToken).ConfigureAwait(false);
        }

        grains.DeleteObjectReference<IGatewayObserver>(this);
    }
}
