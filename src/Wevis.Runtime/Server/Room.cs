using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Wevis.Transport;

namespace Wevis;

/// <summary>
/// Where logged-in users' messages go. Subclass it and override <see cref="Handle"/> (or <see cref="HandleAsync"/>)
/// to pattern-match on your message types and reply through the connection; override the enter and leave hooks
/// to hear users come and go.
/// </summary>
/// <remarks>
/// <para>A room handles <b>one thing at a time</b>: each message, in the order it arrived on its connection, and each
/// enter and leave, so room state needs no locks. A handler may be async; the next message waits for it.</para>
/// <para>An exception from a handler or hook is logged with the user and message; the connection and the server carry on.</para>
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
    private readonly SemaphoreSlim _turn = new(1, 1);
    private readonly Lock _connectionsLock = new();
    private readonly List<Connection> _connections = [];
    private Server? _server;

    /// <summary>The room's logger: the server's logger factory's, once the server has started.</summary>
    protected ILogger Logger { get; private set; } = NullLogger.Instance;

    /// <summary>A snapshot of the connections of the users in the room, in the order they entered.</summary>
    public IReadOnlyList<Connection> Connections
    {
        get
        {
            lock (_connectionsLock)
            {
                return [.. _connections];
            }
        }
    }

    /// <summary>The number of users' connections in the room.</summary>
    public int Count
    {
        get
        {
            lock (_connectionsLock)
            {
                return _connections.Count;
            }
        }
    }

    /// <summary>Only one room at a time runs code: handlers, hooks and <see cref="InvokeAsync(Action)"/>.</summary>
    internal SemaphoreSlim Turn => _turn;

    /// <summary>Sends <paramref name="message"/> to every connection in the room. It is encoded once.</summary>
    /// <exception cref="ArgumentTooLargeException">An argument is over its bound (the message is not sent).</exception>
    public void Broadcast(IServerMessage message) => Broadcast(message, except: null);

    /// <summary>Sends <paramref name="message"/> to every connection in the room but <paramref name="except"/>.</summary>
    /// <exception cref="ArgumentTooLargeException">An argument is over its bound (the message is not sent).</exception>
    public void Broadcast(IServerMessage message, Connection? except)
    {
        ArgumentNullException.ThrowIfNull(message);
        Server server = _server ?? throw new InvalidOperationException("The room is not part of a running server.");
        server.CheckOutgoing(message);
        FrameBuffer frame = FrameBuffer.Encode(message);
        try
        {
            lock (_connectionsLock)
            {
                foreach (Connection connection in _connections)
                {
                    if (!ReferenceEquals(connection, except))
                    {
                        connection.Transport.TrySendFrame(frame.Frame);
                    }
                }
            }
        }
        finally
        {
            FrameBuffer.Return(frame);
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/> in the room's turn, as a handler runs: use it from timers or other threads to
    /// touch room state safely.
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

    /// <summary>Runs <paramref name="action"/> in the room's turn, as a handler runs.</summary>
    public async Task InvokeAsync(Func<ValueTask> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        await _turn.WaitAsync().ConfigureAwait(false);
        var batch = new FlushBatch();
        try
        {
            ValueTask task;
            using (batch.Enter())
            {
                task = action();
            }

            if (!task.IsCompletedSuccessfully)
            {
                batch.FlushAll();
                await task.ConfigureAwait(false);
            }
        }
        finally
        {
            _turn.Release();
            batch.FlushAll();
        }
    }

    /// <summary>Handles a message from a logged-in user. The default logs a warning that nothing handles it.</summary>
    /// <param name="connection">The connection the message came on; <see cref="Connection.User"/> says who sent it.</param>
    /// <param name="message">The message; switch on its type.</param>
    protected virtual void Handle(Connection connection, IMessage message) => ServerLog.Unhandled(Logger, connection.UserName, message);

    /// <summary>Handles a message asynchronously. The default calls <see cref="Handle"/>; override this one to await in a handler.</summary>
    protected virtual ValueTask HandleAsync(Connection connection, IMessage message)
    {
        Handle(connection, message);
        return ValueTask.CompletedTask;
    }

    /// <summary>Called when a user has logged in, before any of their messages is handled (send a welcome here).</summary>
    protected virtual void OnUserEnter(Connection connection)
    {
    }

    /// <summary>Called when a user has logged in. The default calls <see cref="OnUserEnter"/>.</summary>
    protected virtual ValueTask OnUserEnterAsync(Connection connection)
    {
        OnUserEnter(connection);
        return ValueTask.CompletedTask;
    }

    /// <summary>Called once when a user's connection has closed, for whatever reason. Sending to it does nothing.</summary>
    protected virtual void OnUserLeave(Connection connection)
    {
    }

    /// <summary>Called once when a user's connection has closed. The default calls <see cref="OnUserLeave"/>.</summary>
    protected virtual ValueTask OnUserLeaveAsync(Connection connection)
    {
        OnUserLeave(connection);
        return ValueTask.CompletedTask;
    }

    internal void Attach(Server server, ILogger logger)
    {
        if (_server is not null && !ReferenceEquals(_server, server) && _server.IsRunning)
        {
            throw new InvalidOperationException("This room already belongs to another running server.");
        }

        _server = server;
        Logger = logger;
    }

    /// <summary>Handles one message; the caller holds the room's turn. Never throws: failures are logged.</summary>
    internal ValueTask DispatchAsync(Connection connection, IMessage message)
    {
        ValueTask task;
        try
        {
            task = HandleAsync(connection, message);
        }
        catch (Exception ex)
        {
            ServerLog.HandlerFailed(Logger, ex, connection.UserName, message);
            (message as IncomingRequest)?.FailAfterError();
            return ValueTask.CompletedTask;
        }

        return task.IsCompletedSuccessfully ? ValueTask.CompletedTask : AwaitHandlerAsync(task, connection, message);
    }

    /// <summary>Adds a newly logged-in connection and runs the enter hook, in the room's turn.</summary>
    internal ValueTask EnterAsync(Connection connection, FlushBatch batch) => ChangeMembershipAsync(connection, batch, entering: true);

    /// <summary>Removes a closed connection and runs the leave hook, in the room's turn.</summary>
    internal ValueTask LeaveAsync(Connection connection, FlushBatch batch) => ChangeMembershipAsync(connection, batch, entering: false);

    private async ValueTask ChangeMembershipAsync(Connection connection, FlushBatch batch, bool entering)
    {
        await _turn.WaitAsync().ConfigureAwait(false);
        try
        {
            lock (_connectionsLock)
            {
                if (entering)
                {
                    _connections.Add(connection);
                }
                else
                {
                    _connections.Remove(connection);
                }
            }

            await RunHookAsync(
                entering ? static (room, c) => room.OnUserEnterAsync(c) : static (room, c) => room.OnUserLeaveAsync(c),
                connection,
                batch,
                entering ? "enter" : "leave").ConfigureAwait(false);
        }
        finally
        {
            _turn.Release();
            batch.FlushAll();
        }
    }

    private async ValueTask RunHookAsync(Func<Room, Connection, ValueTask> hook, Connection connection, FlushBatch batch, string name)
    {
        try
        {
            ValueTask task;
            using (batch.Enter())
            {
                task = hook(this, connection);
            }

            if (!task.IsCompletedSuccessfully)
            {
                batch.FlushAll();
                await task.ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            ServerLog.HookFailed(Logger, ex, name, connection.UserName);
        }
    }

    private async ValueTask AwaitHandlerAsync(ValueTask task, Connection connection, IMessage message)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            ServerLog.HandlerFailed(Logger, ex, connection.UserName, message);
            (message as IncomingRequest)?.FailAfterError();
        }
    }
}
