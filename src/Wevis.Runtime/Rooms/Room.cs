using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Wevis.Diagnostics;
using Wevis.Rooms;
using Wevis.Transport;

namespace Wevis;

/// <summary>
/// Where logged-in users' messages go. Subclass it and override <see cref="Handle"/> (or <see cref="HandleAsync"/>)
/// to pattern-match on your message types and reply through the connection; override the enter and leave hooks
/// to hear users come and go.
/// </summary>
/// <remarks>
/// <para>A room handles <b>one thing at a time</b>: each message, in the order it arrived on its connection, each
/// enter and leave, each tick, timer and <see cref="InvokeAsync(Action)"/>; so room state needs no locks. A handler
/// may be async; the next message waits for it.</para>
/// <para>A server has an entry room (the lobby), given to its constructor, which every user enters after logging
/// in. More rooms are made at run time through <see cref="RoomDirectory"/> (<see cref="Server.Rooms"/>, or
/// <see cref="Rooms"/> from room code), by code or at a client's request, and users move between them.</para>
/// <para>A room reaches its users only through <see cref="Connection"/>: it never sees a socket or a frame.</para>
/// <para>An exception from a handler, tick or timer is logged with the user and message; the room, the connection
/// and the server carry on. For enter hooks see <see cref="OnUserEnterAsync"/>.</para>
/// </remarks>
/// <example>
/// <code>
/// sealed class TimeRoom : Room
/// {
///     protected override void Handle(Connection connection, IMessage message)
///     {
///         switch (message)
///         {
///             case WhatTimeIsIt:
///                 var now = DateTime.Now;
///                 connection.Send(new ItIs(now.Hour, now.Minute));
///                 break;
///             case WhoAmI:
///                 connection.Send(new YouAre(connection.User.Name));
///                 break;
///         }
///     }
///
///     protected override void OnUserEnter(Connection connection) => connection.Send(new ServerReady());
/// }
/// </code>
/// </example>
public abstract class Room
{
    private readonly RoomTurn _turn = new();
    private readonly RoomMembers _members = new();
    private readonly List<RoomTimer> _timers = [];

    /// <summary>Whether the room's disposal has taken its timers (under the list's lock): a timer scheduled later is disposed at once.</summary>
    private bool _timersClosed;

    /// <summary>Set when the room's disposal has begun and will forget its saved state: its saves do nothing from then on.</summary>
    private ForgottenStates.Forgetting? _forgetting;
    private RoomDirectory? _directory;
    private RoomTicker? _ticker;
    private List<ReceivedMessage> _tickInbox = [];
    private List<ReceivedMessage> _tickInboxSpare = [];
    private Task _created = Task.CompletedTask;
    private string? _id;
    private string? _type;
    private bool _isEntry;

    /// <summary>The room's id, unique on its server: <c>lobby</c> for the entry room, else given when it was created.</summary>
    /// <exception cref="InvalidOperationException">The room is not part of a server yet.</exception>
    public string Id => _id ?? throw new InvalidOperationException("The room is not part of a server yet.");

    /// <summary>The name of the room's type, as defined with <see cref="RoomDirectory.Define"/>; <c>lobby</c> for the entry room.</summary>
    /// <exception cref="InvalidOperationException">The room is not part of a server yet.</exception>
    public string Type => _type ?? throw new InvalidOperationException("The room is not part of a server yet.");

    /// <summary>A snapshot of the connections of the users in the room, in the order they entered.</summary>
    public IReadOnlyList<Connection> Connections => _members.Snapshot;

    /// <summary>The number of users in the room.</summary>
    public int Count => _members.Snapshot.Length;

    /// <summary>
    /// The most users the room takes at once (users on their way in count); null: no limit. Users beyond it are
    /// refused with "the room is full". Starts as its type's <see cref="RoomTypeOptions.Capacity"/>.
    /// </summary>
    public int? Capacity
    {
        get => _members.Capacity;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value ?? 1, 1, nameof(value));
            _members.Capacity = value;
        }
    }

    /// <summary>Whether the room refuses new users (<see cref="Lock"/>); users already in it stay.</summary>
    public bool IsLocked => _members.IsLocked;

    /// <summary>Whether the room has been closed or disposed: it takes no one.</summary>
    public bool IsClosed => _members.State != RoomState.Open;

    /// <summary>
    /// Whether the room is disposed when its last user leaves. Starts as its type's <see cref="RoomTypeOptions.AutoDispose"/>;
    /// the entry room is never disposed.
    /// </summary>
    public bool AutoDispose { get; set; } = true;

    /// <summary>The room's logger: the server's logger factory's, with the room's type as its category.</summary>
    protected ILogger Logger { get; private set; } = NullLogger.Instance;

    /// <summary>The server's rooms: find, list and create rooms from room code.</summary>
    /// <exception cref="InvalidOperationException">The room is not part of a running server.</exception>
    protected RoomDirectory Rooms => Directory;

    /// <summary>The server's clock (<see cref="ServerOptions.TimeProvider"/>), which ticks and timers run on.</summary>
    protected TimeProvider Time => _directory?.Time ?? TimeProvider.System;

    /// <summary>
    /// Whether messages are held for the next tick instead of being handled as they arrive: <see cref="OnTick"/>
    /// then sees them in <see cref="RoomTick.Messages"/>, in arrival order, and <see cref="Handle"/> is not called.
    /// Default false. Takes effect with <see cref="StartTicking"/>.
    /// </summary>
    protected bool HandleMessagesOnTick { get; set; }

    internal RoomDirectory Directory => _directory ?? throw new InvalidOperationException("The room is not part of a running server.");

    internal RoomTurn Turn => _turn;

    internal RoomMembers Members => _members;

    /// <summary>Completes when the created hook has run.</summary>
    internal Task Created => _created;

    internal bool IsEntryRoom => _isEntry || (_directory is { } directory && ReferenceEquals(directory.EntryRoom, this));

    /// <summary>Sends <paramref name="message"/> to every connection in the room. It is encoded once.</summary>
    /// <exception cref="ArgumentException">The message is not one of the server's message types, or is over the frame limit; nothing was sent.</exception>
    public void Broadcast(IServerMessage message) => Broadcast(message, except: null);

    /// <summary>Sends <paramref name="message"/> to every connection in the room but <paramref name="except"/>. It is encoded once.</summary>
    /// <exception cref="ArgumentException">The message is not one of the server's message types, or is over the frame limit; nothing was sent.</exception>
    public void Broadcast(IServerMessage message, Connection? except)
    {
        ArgumentNullException.ThrowIfNull(message);
        Connection[] members = _members.Snapshot;
        FrameBuffer frame = Directory.Encode(message);
        try
        {
            foreach (Connection connection in members)
            {
                if (!ReferenceEquals(connection, except))
                {
                    connection.SendEncoded(frame.Frame);
                }
            }
        }
        finally
        {
            FrameBuffer.Return(frame);
        }
    }

    /// <summary>Sends <paramref name="message"/> to each of <paramref name="recipients"/> (in this room or not). It is encoded once.</summary>
    /// <exception cref="ArgumentException">The message is not one of the server's message types, or is over the frame limit; nothing was sent.</exception>
    public void Send(IServerMessage message, IEnumerable<Connection> recipients)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(recipients);
        FrameBuffer frame = Directory.Encode(message);
        try
        {
            foreach (Connection connection in recipients)
            {
                connection.SendEncoded(frame.Frame);
            }
        }
        finally
        {
            FrameBuffer.Return(frame);
        }
    }

    /// <summary>Refuses new users ("the room is locked") until <see cref="Unlock"/>; users in the room stay.</summary>
    public void Lock() => _members.IsLocked = true;

    /// <summary>Takes new users again, up to <see cref="Capacity"/>.</summary>
    public void Unlock() => _members.IsLocked = false;

    /// <summary>
    /// Runs <paramref name="action"/> in the room's turn, as a handler runs: use it from timers or other threads to
    /// touch room state safely. What it sends goes out when it returns.
    /// </summary>
    public Task InvokeAsync(Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        return InvokeAsync(() =>
        {
            action();
            return ValueTask.CompletedTask;
        });
    }

    /// <summary>Runs <paramref name="action"/> in the room's turn, as a handler runs; exceptions reach the caller.</summary>
    public async Task InvokeAsync(Func<ValueTask> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        await RunInTurnAsync(static action => action(), action).ConfigureAwait(false);
    }

    /// <summary>Handles a message from a logged-in user. The default logs a warning that nothing handles it.</summary>
    /// <param name="connection">The connection the message came on; <see cref="Connection.User"/> says who sent it.</param>
    /// <param name="message">The message; switch on its type.</param>
    protected virtual void Handle(Connection connection, IMessage message) => RoomLog.Unhandled(Logger, Id, connection.User.Name, MessageSummary.Of(message));

    /// <summary>Handles a message asynchronously. The default calls <see cref="Handle"/>; override this one to await in a handler.</summary>
    protected virtual ValueTask HandleAsync(Connection connection, IMessage message)
    {
        Handle(connection, message);
        return ValueTask.CompletedTask;
    }

    /// <summary>Called when a user enters the room, before any of their messages is handled here (send a welcome here).</summary>
    protected virtual void OnUserEnter(Connection connection)
    {
    }

    /// <summary>
    /// Called when a user enters the room. The default calls <see cref="OnUserEnter"/>. To turn the user away,
    /// throw <see cref="RoomEntryRefusedException"/>: the user goes back to the room they came from and the client is
    /// told its message. Another exception does the same, logged as an error, with a general reason for the client.
    /// In the entry room, at login, a refusal closes the connection and another exception is only logged.
    /// </summary>
    protected virtual ValueTask OnUserEnterAsync(Connection connection)
    {
        OnUserEnter(connection);
        return ValueTask.CompletedTask;
    }

    /// <summary>Called once when a user leaves the room: they moved to another room, or their connection closed. Sending to it may do nothing.</summary>
    protected virtual void OnUserLeave(Connection connection)
    {
    }

    /// <summary>Called once when a user leaves the room. The default calls <see cref="OnUserLeave"/>.</summary>
    protected virtual ValueTask OnUserLeaveAsync(Connection connection)
    {
        OnUserLeave(connection);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Called when the connection of a user in the room was lost but their session is kept for them to resume
    /// (<see cref="ServerOptions.ResumeGracePeriod"/>; only for clients that asked, <see cref="ClientOptions.ResumeSessions"/>).
    /// They are still in the room; what is sent to them waits, and is delivered if they come back. If they do not,
    /// <see cref="OnUserLeave"/> follows as usual; <see cref="Connection.Close"/> ends the session at once.
    /// </summary>
    protected virtual void OnUserDropped(Connection connection)
    {
    }

    /// <summary>As <see cref="OnUserDropped"/>. The default calls <see cref="OnUserDropped"/>.</summary>
    protected virtual ValueTask OnUserDroppedAsync(Connection connection)
    {
        OnUserDropped(connection);
        return ValueTask.CompletedTask;
    }

    /// <summary>Called when a user whose connection was lost (<see cref="OnUserDropped"/>) has resumed their session on a new one.</summary>
    protected virtual void OnUserResumed(Connection connection)
    {
    }

    /// <summary>As <see cref="OnUserResumed"/>. The default calls <see cref="OnUserResumed"/>.</summary>
    protected virtual ValueTask OnUserResumedAsync(Connection connection)
    {
        OnUserResumed(connection);
        return ValueTask.CompletedTask;
    }

    /// <summary>Called once, in the room's turn, when the room has been created and before anyone enters it.</summary>
    protected virtual void OnCreated()
    {
    }

    /// <summary>Called once when the room has been created. The default calls <see cref="OnCreated"/>.</summary>
    protected virtual ValueTask OnCreatedAsync()
    {
        OnCreated();
        return ValueTask.CompletedTask;
    }

    /// <summary>Called once, in the room's turn, when the room is disposed: it was closed, or its last user left.</summary>
    protected virtual void OnDisposed()
    {
    }

    /// <summary>Called once when the room is disposed. The default calls <see cref="OnDisposed"/>.</summary>
    protected virtual ValueTask OnDisposedAsync()
    {
        OnDisposed();
        return ValueTask.CompletedTask;
    }

    /// <summary>Called in the room's turn at the rate set by <see cref="StartTicking"/>. What it sends goes out together when it returns.</summary>
    protected virtual void OnTick(RoomTick tick)
    {
    }

    /// <summary>Called at each tick. The default calls <see cref="OnTick"/>.</summary>
    protected virtual ValueTask OnTickAsync(RoomTick tick)
    {
        OnTick(tick);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Starts calling <see cref="OnTick"/> every <paramref name="interval"/>, in the room's turn, on the server's
    /// clock. Ticks never overlap: when ticks fall due while one still runs, one more runs as soon as it ends and the
    /// rest are counted in <see cref="RoomTick.Skipped"/>, so a slow room falls behind rather than piling ticks up.
    /// Calling it again changes the interval.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="interval"/> is shorter than 1 ms.</exception>
    protected void StartTicking(TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(interval, TimeSpan.FromMilliseconds(1));
        _ticker?.Dispose();
        if (_members.State == RoomState.Disposed)
        {
            // Its last tick, or code that ran as it went: nothing would dispose a ticker started now.
            _ticker = null;
            return;
        }

        _ticker = new RoomTicker(this, interval);
    }

    /// <summary>
    /// Stops the ticks: none runs after this, not even one that fell due while this code held the turn. Messages held
    /// for a tick are handed to <see cref="Handle"/> no more (they wait for ticking to start again).
    /// </summary>
    protected void StopTicking()
    {
        _ticker?.Dispose();
        _ticker = null;
    }

    /// <summary>
    /// Runs <paramref name="action"/> once, in the room's turn, after <paramref name="delay"/> on the server's clock.
    /// Dispose the result to cancel it: disposed in the room's turn, it never runs after that, even if it fell due meanwhile.
    /// </summary>
    protected IDisposable Schedule(TimeSpan delay, Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        return AddTimer(delay, Timeout.InfiniteTimeSpan, Wrap(action));
    }

    /// <summary>Runs <paramref name="action"/> once, in the room's turn, after <paramref name="delay"/>; the turn is held until it completes.</summary>
    protected IDisposable Schedule(TimeSpan delay, Func<ValueTask> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        return AddTimer(delay, Timeout.InfiniteTimeSpan, action);
    }

    /// <summary>
    /// Runs <paramref name="action"/> every <paramref name="period"/>, in the room's turn, until the result is disposed
    /// (in the room's turn: no run follows) or the room is.
    /// </summary>
    protected IDisposable ScheduleRepeating(TimeSpan period, Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        ArgumentOutOfRangeException.ThrowIfLessThan(period, TimeSpan.FromMilliseconds(1));
        return AddTimer(period, period, Wrap(action));
    }

    /// <summary>
    /// Moves a user of this room into <paramref name="target"/>, from this room's own code. Their leave hook here
    /// runs now; the target's enter hook runs next, before any more of their messages is handled. The client is
    /// told its new room. Refused (and the user stays) if the target is full, locked or closed.
    /// </summary>
    /// <param name="connection">A user in this room.</param>
    /// <param name="target">The room to move them to.</param>
    /// <param name="reason">Why, for the client (empty by default).</param>
    /// <exception cref="InvalidOperationException">Not called from this room's code, or the user is not in this room.</exception>
    protected ValueTask<JoinResult> MoveAsync(Connection connection, Room target, string? reason = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(target);
        RequireTurn(nameof(MoveAsync));
        if (Directory.Cluster is { } cluster)
        {
            return cluster.MoveFromRoomAsync(this, connection, target.Id, reason ?? string.Empty, force: false);
        }

        return connection.Dispatcher.MoveFromRoomCodeAsync(this, target, reason ?? string.Empty);
    }

    /// <summary>
    /// Moves a user of this room into the room with <paramref name="targetId"/>, as <see cref="MoveAsync(Connection, Room, string?)"/>:
    /// on a cluster the target may be on another node (found with <see cref="RoomDirectory.FindAsync"/>, say). Refused if
    /// there is no such room.
    /// </summary>
    /// <exception cref="InvalidOperationException">Not called from this room's code, or the user is not in this room.</exception>
    protected ValueTask<JoinResult> MoveAsync(Connection connection, string targetId, string? reason = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(targetId);
        RequireTurn(nameof(MoveAsync));
        if (Directory.Cluster is { } cluster)
        {
            return cluster.MoveFromRoomAsync(this, connection, targetId, reason ?? string.Empty, force: false);
        }

        return Directory.Find(targetId) is { } target
            ? connection.Dispatcher.MoveFromRoomCodeAsync(this, target, reason ?? string.Empty)
            : ValueTask.FromResult(JoinResult.Refused($"there is no room '{targetId}'"));
    }

    /// <summary>
    /// Moves a user of this room into a room of <paramref name="type"/> that has a place, creating one if none has,
    /// from this room's own code: two users racing get the same room while it has places.
    /// </summary>
    /// <exception cref="InvalidOperationException">Not called from this room's code, or the user is not in this room.</exception>
    /// <exception cref="ArgumentException">No room type has that name.</exception>
    protected async ValueTask<JoinResult> JoinOrCreateAsync(Connection connection, string type)
    {
        ArgumentNullException.ThrowIfNull(connection);
        RequireTurn(nameof(JoinOrCreateAsync));
        if (Directory.Cluster is { } cluster)
        {
            return await cluster.JoinOrCreateFromRoomAsync(this, connection, type).ConfigureAwait(false);
        }

        (Room? target, string? refusal) = Directory.HoldSeatInAnyOrNew(type, byClient: false);
        if (target is null)
        {
            return JoinResult.Refused(refusal!);
        }

        await target.Created.ConfigureAwait(false);
        return await connection.Dispatcher.MoveFromRoomCodeAsync(this, target, string.Empty, seatHeld: true).ConfigureAwait(false);
    }

    /// <summary>
    /// Closes the room, from its own code: it takes no one from now on, its users are moved to the entry room (and
    /// told <paramref name="reason"/>) or, with <paramref name="disconnect"/>, disconnected with it; it is disposed
    /// once empty. The entry room cannot be closed.
    /// </summary>
    /// <exception cref="InvalidOperationException">Not called from this room's code, or this is the entry room.</exception>
    protected ValueTask CloseAsync(string reason, bool disconnect = false)
    {
        ArgumentNullException.ThrowIfNull(reason);
        RequireTurn(nameof(CloseAsync));
        return CloseInTurnAsync(reason, disconnect);
    }

    /// <summary>Attaches the room to a server's directory; for the entry room, when the server starts.</summary>
    internal void Attach(RoomDirectory directory, string id, string type, RoomTypeOptions options, bool isEntry = false)
    {
        if (_directory is not null && !ReferenceEquals(_directory, directory) && _directory.IsRunning)
        {
            throw new InvalidOperationException("This room already belongs to another running server.");
        }

        _directory = directory;
        _id = id;
        _type = type;
        _isEntry = isEntry;
        _members.Capacity = options.Capacity;
        AutoDispose = options.AutoDispose && !IsEntryRoom;
        Logger = directory.CreateLogger(GetType());
    }

    /// <summary>Logs to <paramref name="logger"/> from now on: the server's, once it starts, for a room made before.</summary>
    internal void UseLogger(ILogger logger) => Logger = logger;

    /// <summary>Reads a persistent room's state back, before its created hook; nothing for other rooms.</summary>
    internal virtual ValueTask LoadStateAsync() => ValueTask.CompletedTask;

    /// <summary>Forgets a persistent room's saved state: the room was disposed (not at the server's stop).</summary>
    internal virtual ValueTask ClearStateAsync() => ValueTask.CompletedTask;

    /// <summary>
    /// Takes the turn of a room just made (it is free) for its created hook, which then runs off the caller's stack:
    /// the caller holds the directory's lock. Whoever enters the room meanwhile waits for the hook.
    /// </summary>
    internal void BeginCreation()
    {
        bool entered = _turn.TryEnter();
        System.Diagnostics.Debug.Assert(entered, "A new room's turn is free.");
        var creation = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _created = creation.Task;
        ThreadPool.UnsafeQueueUserWorkItem(static state => _ = state.Room.RunCreatedHookAsync(state.Creation), (Room: this, Creation: creation), preferLocal: false);
    }

    /// <summary>Hands a user's messages from <paramref name="index"/> on to this room, in its turn, while the user is in it; returns the index of the first one not handled.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    internal async ValueTask<int> DeliverAsync(Connection connection, List<IMessage> messages, int index, int end)
    {
        FlushBatch batch = connection.Batch;
        ServerMetrics? metrics = _directory?.Metrics;
        await _turn.EnterAsync(batch).ConfigureAwait(false);
        try
        {
            while (index < end && connection.IsOpen && ReferenceEquals(connection.Dispatcher.Room, this))
            {
                IMessage message = messages[index];
                if (message.Descriptor.IsProtocolMessage)
                {
                    break;
                }

                index++;
                (message as IncomingRequest)?.Attach(connection);
                if (HandleMessagesOnTick && _ticker is not null)
                {
                    _tickInbox.Add(new ReceivedMessage(connection, message));
                    continue;
                }

                // Timed only when something listens to handler durations or spans.
                long started = 0;
                Activity? activity = null;
                if (metrics is { TimesHandlers: true })
                {
                    started = Stopwatch.GetTimestamp();
                    activity = ServerMetrics.StartHandling(Type, Id, message);
                }

                await batch.RunAsync(static s => s.Room.RunHandler(s.Connection, s.Message), (Room: this, Connection: connection, Message: message)).ConfigureAwait(false);
                if (started != 0)
                {
                    metrics!.Handled(Type, message.Descriptor, started, activity);
                }
            }
        }
        finally
        {
            _turn.Exit();
        }

        return index;
    }

    /// <summary>
    /// Lets a user in, in the room's turn: their held seat becomes a place, and the enter hook runs. The client is
    /// sent <paramref name="notice"/> (its new room) before anything the hook sends it. Returns null, or why they
    /// were refused (the room closed meanwhile, or the hook refused or failed): the client is then sent nothing from
    /// this room, and their seat is still held, for the caller to give back.
    /// </summary>
    internal async ValueTask<string?> EnterAsync(Connection connection, FlushBatch batch, IMessage notice)
    {
        await _created.ConfigureAwait(false);
        await _turn.EnterAsync(batch).ConfigureAwait(false);
        try
        {
            if (!_members.Enter(connection))
            {
                return "the room is closed";
            }

            connection.Dispatcher.EnteredInTurn(this);
            connection.HoldSends(notice);
            string? refusal = null;
            try
            {
                refusal = await RunEnterHookAsync(connection, batch).ConfigureAwait(false);
                if (refusal is not null && !_members.Contains(connection))
                {
                    // The hook moved the user on (or closed the room) before it refused them: that move stands, so
                    // they count as having entered here, and the refusal cannot undo it.
                    RoomLog.RefusedAfterMovingOn(Logger, Id, connection.User.Name, refusal);
                    refusal = null;
                }
            }
            finally
            {
                connection.ReleaseHeld(entered: refusal is null);
            }

            if (refusal is not null)
            {
                _members.Leave(connection);
                connection.Dispatcher.RefusedInTurn(this);
            }
            else
            {
                _members.Used = true;
            }

            return refusal;
        }
        finally
        {
            _turn.Exit();
            batch.FlushAll();
        }
    }

    /// <summary>
    /// Lets a user out, in the room's turn: their place becomes a held seat (for the caller to give back), and the
    /// leave hook runs. False if they were not in the room (room code moved them out meanwhile).
    /// </summary>
    internal async ValueTask<bool> LeaveAsync(Connection connection, FlushBatch batch)
    {
        await _turn.EnterAsync(batch).ConfigureAwait(false);
        try
        {
            return await LeaveInTurnAsync(connection, batch).ConfigureAwait(false);
        }
        finally
        {
            _turn.Exit();
            batch.FlushAll();
        }
    }

    /// <summary>As <see cref="LeaveAsync"/>, for a caller that holds the turn (room code).</summary>
    internal async ValueTask<bool> LeaveInTurnAsync(Connection connection, FlushBatch batch)
    {
        if (!_members.Leave(connection))
        {
            return false;
        }

        // Left, so they had been in: a room whose only visitor its enter hook sent on is disposed when empty too. And
        // if that hook is what sends them on, they did enter: the client hears of it (and of what the hook sent) first.
        _members.Used = true;
        connection.LetInBeforeMovingOn();

        await RunHookAsync(static (room, c) => room.OnUserLeaveAsync(c), connection, batch, "leave").ConfigureAwait(false);
        return true;
    }

    /// <summary>Runs the drop hook (<paramref name="resumed"/> false) or the resume hook for a member, in the room's turn.</summary>
    internal async ValueTask DroppedOrResumedAsync(Connection connection, FlushBatch batch, bool resumed)
    {
        await _turn.EnterAsync(batch).ConfigureAwait(false);
        try
        {
            if (!connection.IsOpen || !_members.Contains(connection))
            {
                // Room code ended the user's session after the drop or the resume but before this turn (it closed the
                // connection, or the room with its users, in a turn taken first), or moved the user out meanwhile (the
                // room closed without disconnecting them): the room has heard the last of this session but its
                // leave, so it is not told of a drop or a resume after its own close.
                return;
            }

            await (resumed
                ? RunHookAsync(static (room, c) => room.OnUserResumedAsync(c), connection, batch, "resume")
                : RunHookAsync(static (room, c) => room.OnUserDroppedAsync(c), connection, batch, "drop")).ConfigureAwait(false);
        }
        finally
        {
            _turn.Exit();
            batch.FlushAll();
        }
    }

    /// <summary>Gives back a seat held in this room; disposes the room if that left it empty and it should go.</summary>
    internal void ReleaseSeat()
    {
        if (_members.ReleaseSeat(AutoDispose && !IsEntryRoom))
        {
            ScheduleDispose();
        }
    }

    /// <summary>Closes the room; the caller holds its turn.</summary>
    internal async ValueTask CloseInTurnAsync(string reason, bool disconnect)
    {
        if (IsEntryRoom)
        {
            throw new InvalidOperationException("The entry room cannot be closed; stop the server instead.");
        }

        bool empty = _members.BeginClosing();
        RoomLog.Closing(Logger, Id, reason, Count);
        string told = $"the room {Id} was closed: {reason}";
        foreach (Connection connection in _members.Snapshot)
        {
            // A leave hook run for a user before may have moved this one out already (or closed the room itself):
            // they are gone, and moving them again would throw and strand everyone after them in a closing room.
            if (!_members.Contains(connection))
            {
                continue;
            }

            if (disconnect)
            {
                connection.Close(told);
            }
            else if (Directory.Cluster is { } cluster)
            {
                await cluster.MoveFromRoomAsync(this, connection, RoomDirectory.EntryRoomName, told, force: true).ConfigureAwait(false);
            }
            else
            {
                await connection.Dispatcher.MoveFromRoomCodeAsync(this, Directory.EntryRoom, told, seatHeld: false, force: true).ConfigureAwait(false);
            }
        }

        if (empty)
        {
            ScheduleDispose();
        }
    }

    /// <summary>Disposes the room now, whoever is in it (the server is stopping and everyone has left).</summary>
    internal async Task DisposeNowAsync()
    {
        if (_members.MarkDisposed())
        {
            await RunDisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs one tick in the room's turn; called by the ticker. Not if the ticker was stopped while the tick waited for
    /// the turn (room code holding it called <see cref="StopTicking"/>, or <see cref="StartTicking"/> anew): ticking
    /// stopped in the turn never runs after that.
    /// </summary>
    internal ValueTask RunTickAsync(RoomTicker ticker, RoomTick tick) =>
        RunInTurnAsync(static s => s.Ticker.IsStopped ? ValueTask.CompletedTask : s.Room.TickInTurnAsync(s.Tick), (Room: this, Ticker: ticker, Tick: tick));

    /// <summary>Runs a timer's action in the room's turn; called by the timer.</summary>
    internal async ValueTask RunTimerAsync(RoomTimer timer)
    {
        try
        {
            await RunInTurnAsync(static s => s.Room._members.State == RoomState.Disposed ? ValueTask.CompletedTask : s.Timer.RunInTurnAsync(), (Room: this, Timer: timer)).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            RoomLog.TimerFailed(Logger, ex, Id);
        }
    }

    internal void RemoveTimer(RoomTimer timer)
    {
        lock (_timers)
        {
            _timers.Remove(timer);
        }
    }

    /// <summary>
    /// Runs room code that is not a user's message (an invoke, a tick, a timer, the disposed hook): takes the turn,
    /// runs <paramref name="code"/> with a batch of its own, so what it sends goes out together, and gives the turn back.
    /// </summary>
    private async ValueTask RunInTurnAsync<TState>(Func<TState, ValueTask> code, TState state)
    {
        var batch = new FlushBatch(Directory.FlushGroup);
        await _turn.EnterAsync(null).ConfigureAwait(false);

        // This room's code: what it sends a user entering another room is not held as that room's (an enter hook that
        // awaits this room's InvokeAsync, a timer or tick the hook started, carry the hook's flow here).
        Connection.NotEntering();
        try
        {
            await batch.RunAsync(code, state).ConfigureAwait(false);
        }
        finally
        {
            _turn.Exit();
            batch.FlushAll();
        }
    }

    /// <summary>
    /// At disposal, in the turn: messages still held for a tick (their senders left before it came, emptying the room)
    /// get one last tick, so every message sent to the room is handled by it; if ticking had been stopped, the
    /// requests among them are answered with a failure instead of being left to time out.
    /// </summary>
    private async ValueTask HandleHeldAtDisposalAsync()
    {
        if (_tickInbox.Count == 0)
        {
            return;
        }

        // The ticker is disposed by now, but still set unless room code stopped ticking.
        if (_ticker is { } ticker)
        {
            await TickInTurnAsync(ticker.Last(), last: true).ConfigureAwait(false);
            return;
        }

        foreach (ReceivedMessage received in _tickInbox)
        {
            (received.Message as IncomingRequest)?.FailUnanswered($"the room {Id} was disposed while its ticks were stopped");
        }

        _tickInbox.Clear();
    }

    /// <summary>One tick, in the turn: hands the tick the messages held for it, then keeps the list for the one after next.</summary>
    /// <param name="tick">The tick.</param>
    /// <param name="last">The room's last tick, at its disposal (which runs even though the room is disposed).</param>
    private async ValueTask TickInTurnAsync(RoomTick tick, bool last = false)
    {
        if (_members.State == RoomState.Disposed && !last)
        {
            return;
        }

        List<ReceivedMessage> held = _tickInbox;
        _tickInbox = _tickInboxSpare;
        ServerMetrics? metrics = _directory?.Metrics;
        long started = metrics is { TimesTicks: true } ? Stopwatch.GetTimestamp() : 0;
        Activity? activity = started != 0 ? ServerMetrics.StartTick(Type, Id, tick.Number) : null;
        try
        {
            await OnTickAsync(tick with { Messages = held }).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            RoomLog.TickFailed(Logger, ex, Id, tick.Number);

            // Requests the failed tick was given are answered with a failure, not left to time out.
            foreach (ReceivedMessage received in held)
            {
                (received.Message as IncomingRequest)?.FailAfterError();
            }
        }
        finally
        {
            held.Clear();
            _tickInboxSpare = held;
            if (started != 0)
            {
                metrics!.Ticked(Type, started, activity);
            }
        }
    }

    private static Func<ValueTask> Wrap(Action action) => () =>
    {
        action();
        return ValueTask.CompletedTask;
    };

    private IDisposable AddTimer(TimeSpan due, TimeSpan period, Func<ValueTask> action)
    {
        var timer = new RoomTimer(this, due, period, action, Time);
        lock (_timers)
        {
            if (_timersClosed)
            {
                // Scheduled as the room goes (in its last tick, say): nothing would dispose it later.
                timer.Dispose();
                return timer;
            }

            _timers.Add(timer);
        }

        return timer;
    }

    private void RequireTurn(string method)
    {
        if (!_turn.IsHeld)
        {
            throw new InvalidOperationException(
                $"Room.{method} is for the room's own code (its handlers, hooks, ticks, timers and InvokeAsync); from elsewhere use Server.Rooms.");
        }
    }

    private ValueTask RunHandler(Connection connection, IMessage message)
    {
        ValueTask task;
        try
        {
            task = HandleAsync(connection, message);
        }
        catch (Exception ex)
        {
            RoomLog.HandlerFailed(Logger, ex, Id, connection.User.Name, MessageSummary.Of(message));
            (message as IncomingRequest)?.FailAfterError();
            return ValueTask.CompletedTask;
        }

        return task.IsCompletedSuccessfully ? ValueTask.CompletedTask : AwaitHandlerAsync(task, connection, message);
    }

    private async ValueTask AwaitHandlerAsync(ValueTask task, Connection connection, IMessage message)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            RoomLog.HandlerFailed(Logger, ex, Id, connection.User.Name, MessageSummary.Of(message));
            (message as IncomingRequest)?.FailAfterError();
        }
    }

    /// <summary>Runs the enter hook; returns null, or the reason the user is refused.</summary>
    private async ValueTask<string?> RunEnterHookAsync(Connection connection, FlushBatch batch)
    {
        try
        {
            await batch.RunAsync(static s => s.Room.OnUserEnterAsync(s.Connection), (Room: this, Connection: connection)).ConfigureAwait(false);
            return null;
        }
        catch (RoomEntryRefusedException refused)
        {
            return refused.Message;
        }
        catch (Exception ex)
        {
            RoomLog.HookFailed(Logger, ex, Id, "enter", connection.User.Name);
            return IsEntryRoom ? null : $"the room {Id} could not take you in";
        }
    }

    private async ValueTask RunHookAsync(Func<Room, Connection, ValueTask> hook, Connection connection, FlushBatch batch, string name)
    {
        try
        {
            await batch.RunAsync(static s => s.Hook(s.Room, s.Connection), (Hook: hook, Room: this, Connection: connection)).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            RoomLog.HookFailed(Logger, ex, Id, name, connection.User.Name);
        }
    }

    private async Task RunCreatedHookAsync(TaskCompletionSource creation)
    {
        // BeginCreation took the turn.
        var batch = new FlushBatch(Directory.FlushGroup);
        try
        {
            await LoadStateAsync().ConfigureAwait(false);
            await batch.RunAsync(static room => room.OnCreatedAsync(), this).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            RoomLog.LifecycleHookFailed(Logger, ex, Id, "created");
        }
        finally
        {
            _turn.Exit();
            batch.FlushAll();
            RoomLog.Created(Logger, Id, Type);
            creation.TrySetResult();
        }
    }

    /// <summary>
    /// The room is marked disposed: it leaves the directory at once (so no one finds it, and its id is free), and its
    /// hook runs off this stack. A persistent room's state is to be forgotten (not at the server's stop): from now on
    /// its saves do nothing, and a room made again under its id meanwhile is not confused with it (<see cref="ForgottenStates"/>).
    /// </summary>
    private void ScheduleDispose()
    {
        if (!Directory.IsStopping && KeepsState)
        {
            Volatile.Write(ref _forgetting, Directory.ForgottenStates.Begin(Id));
        }

        Directory.Remove(this);
        ThreadPool.UnsafeQueueUserWorkItem(static room => _ = room.RunDisposeAsync(), this, preferLocal: false);
    }

    /// <summary>Whether the room saves state that its disposal forgets (<see cref="PersistentRoom{TState}"/>).</summary>
    internal virtual bool KeepsState => false;

    /// <summary>Whether the room is being disposed and its state forgotten: saving it then would bring it back.</summary>
    internal bool IsForgettingState => Volatile.Read(ref _forgetting) is not null;

    private async Task RunDisposeAsync()
    {
        _ticker?.Dispose();
        RoomTimer[] timers;
        lock (_timers)
        {
            _timersClosed = true;
            timers = [.. _timers];
        }

        foreach (RoomTimer timer in timers)
        {
            timer.Dispose();
        }

        Directory.Remove(this);
        try
        {
            await RunInTurnAsync(static async room =>
            {
                await room.HandleHeldAtDisposalAsync().ConfigureAwait(false);
                await room.OnDisposedAsync().ConfigureAwait(false);
            }, this).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            RoomLog.LifecycleHookFailed(Logger, ex, Id, "disposed");
        }

        if (Volatile.Read(ref _forgetting) is { } forgetting)
        {
            try
            {
                await Directory.ForgottenStates.ForgetAsync(forgetting, ClearStateAsync).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                RoomLog.LifecycleHookFailed(Logger, ex, Id, "state clear");
            }
        }

        RoomLog.Disposed(Logger, Id);
    }
}
