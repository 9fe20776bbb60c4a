using System.Net;
using Wevis.Protocol;
using Wevis.Transport;

namespace Wevis;

/// <summary>
/// A client's connection to the server, as the room sees it: who is on it (<see cref="User"/>), and a way to reply
/// (<see cref="Send"/>). Messages sent on one connection arrive in the order they were sent.
/// </summary>
public sealed partial class Connection : IMessageBatchHandler
{
    private readonly Server _server;
    private readonly FlushBatch _batch = new();
    private User? _user;
    private int _state; // a ConnectionState
    private int _userReleased;
    private bool _dispatching;
    private long _dispatchEndedTicks;

    internal Connection(long id, MessageConnection transport, Server server, string salt)
    {
        Id = id;
        Transport = transport;
        _server = server;
        Salt = salt;
    }

    private enum ConnectionState
    {
        LoggingIn,
        LoggedIn,
        Closed,
    }

    /// <summary>A number that identifies this connection in the server's logs.</summary>
    public long Id { get; }

    /// <summary>The logged-in user, as the validator returned them (cast to your <see cref="Wevis.User"/> subclass).</summary>
    /// <exception cref="InvalidOperationException">The connection has not logged in (rooms only see logged-in connections).</exception>
    public User User => _user ?? throw new InvalidOperationException("This connection has not logged in.");

    /// <summary>The client's address.</summary>
    public EndPoint? RemoteEndPoint => Transport.RemoteEndPoint;

    /// <summary>Whether the connection is still open for sending.</summary>
    public bool IsOpen => !Transport.IsClosing;

    /// <summary>Why the connection closed, once it has.</summary>
    public string? CloseReason => Transport.CloseReason;

    internal MessageConnection Transport { get; }

    internal string Salt { get; }

    internal bool IsLoggedIn => Volatile.Read(ref _state) == (int)ConnectionState.LoggedIn;

    internal bool IsLoggingIn => Volatile.Read(ref _state) == (int)ConnectionState.LoggingIn;

    internal string UserName => _user?.Name ?? "not logged in";

    /// <summary>When the server last pinged this connection without an answer yet (0: no ping outstanding).</summary>
    internal long PingSentTicks { get; set; }

    /// <summary>
    /// Whether the server is handling a batch from this connection (waiting for the room's turn included). The
    /// connection's socket is not read meanwhile, so its silence then is the server's doing, not the peer's.
    /// </summary>
    internal bool IsDispatching => Volatile.Read(ref _dispatching);

    /// <summary>When the server last finished handling a batch from this connection, as <see cref="Environment.TickCount64"/>.</summary>
    internal long DispatchEndedTicks => Volatile.Read(ref _dispatchEndedTicks);

    /// <summary>Set when the peer broke the protocol, so the close is logged as a warning.</summary>
    internal bool BrokeProtocol { get; private set; }

    internal FlushBatch Batch => _batch;

    /// <summary>
    /// Sends <paramref name="message"/> to this client. It is queued and goes out promptly: in a handler, together
    /// with the handler's other replies when it returns. Sending on a closed connection does nothing. Only messages
    /// the server sends (<c>server:</c>, or no direction) are <see cref="IServerMessage"/>s, so sending one of the
    /// clients' does not compile.
    /// </summary>
    /// <exception cref="ArgumentTooLargeException">An argument is over its bound (the message is not sent).</exception>
    /// <exception cref="ArgumentException">The message is not one of the server's message types, or is over the frame limit.</exception>
    /// <exception cref="ArgumentNullException">A reference-typed argument of a <c>[WevisMessage]</c> record is null.</exception>
    public void Send(IServerMessage message) => Transport.TrySend(message);

    /// <summary>Closes the connection: the client is told <paramref name="reason"/>, after the messages already queued.</summary>
    public void Close(string reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        ReleaseUser();
        Transport.Close(reason, new Closing(reason));
    }

    /// <inheritdoc/>
    public override string ToString() => $"#{Id} {UserName} ({RemoteEndPoint})";

    internal void MarkLoggedIn(User user)
    {
        _user = user;
        Volatile.Write(ref _state, (int)ConnectionState.LoggedIn);
    }

    /// <summary>
    /// Gives back the user's place under <see cref="ServerOptions.MaxConnectionsPerUser"/>, once. Called before the
    /// peer can see the connection close, so a client that disconnects and at once logs in again is not refused.
    /// </summary>
    internal void ReleaseUser()
    {
        if (_user is { } user && Interlocked.Exchange(ref _userReleased, 1) == 0)
        {
            _server.ReleaseUserConnection(user.Name);
        }
    }

    /// <summary>Marks the connection closed; true for the one caller that found it logged in.</summary>
    internal bool MarkClosed() => Interlocked.Exchange(ref _state, (int)ConnectionState.Closed) == (int)ConnectionState.LoggedIn;

    /// <summary>Closes because the peer broke the protocol; the peer is told why.</summary>
    internal void CloseForViolation(string reason)
    {
        BrokeProtocol = true;
        ReleaseUser();
        Transport.Close(reason, new Closing(reason), MessageConnection.MisbehaviourLingerTimeout);
    }

    async ValueTask IMessageBatchHandler.HandleBatchAsync(MessageConnection transport, List<IMessage> messages)
    {
        Room room = _server.Room;
        bool hasTurn = false;
        Volatile.Write(ref _dispatching, true);
        try
        {
            for (int i = 0; i < messages.Count && !transport.IsClosing; i++)
            {
                IMessage message = messages[i];
                if (!IsLoggedIn)
                {
                    if (message is not Login login)
                    {
                        CloseForViolation($"expected a login message but received {message.Descriptor.Name}");
                        break;
                    }

                    ValueTask loggingIn;
                    using (_batch.Enter())
                    {
                        loggingIn = _server.LoginAsync(this, login);
                    }

                    if (!loggingIn.IsCompletedSuccessfully)
                    {
                        _batch.FlushAll();
                        await loggingIn.ConfigureAwait(false);
                    }

                    continue;
                }

                if (message.Descriptor.IsProtocolMessage)
                {
                    HandleProtocolMessage(message);
                    continue;
                }

                if (message.Descriptor.Direction == MessageDirection.ServerToClient)
                {
                    CloseForViolation($"sent {message.Descriptor.Name}, which only the server sends");
                    break;
                }

                if (!hasTurn)
                {
                    Task turn = room.Turn.WaitAsync();
                    if (!turn.IsCompletedSuccessfully)
                    {
                        _batch.FlushAll();
                        await turn.ConfigureAwait(false);
                    }

                    hasTurn = true;
                }

                (message as IncomingRequest)?.Attach(this);
                ValueTask handled;
                using (_batch.Enter())
                {
                    handled = room.DispatchAsync(this, message);
                }

                if (!handled.IsCompletedSuccessfully)
                {
                    _batch.FlushAll();
                    await handled.ConfigureAwait(false);
                }
            }
        }
        finally
        {
            if (hasTurn)
            {
                room.Turn.Release();
            }

            _batch.FlushAll();
            Volatile.Write(ref _dispatchEndedTicks, Environment.TickCount64);
            Volatile.Write(ref _dispatching, false);
        }
    }

    private void HandleProtocolMessage(IMessage message)
    {
        switch (message)
        {
            case Pong:
                // Any frame counts as an answer; the keep-alive sees the connection's last receive time.
                break;
            case Ping:
                Transport.TrySend(new Pong());
                break;
            case Closing closing:
                ReleaseUser();
                Transport.Close("the client closed the connection: " + closing.Reason);
                break;
            default:
                CloseForViolation($"sent the protocol message {message.Descriptor.Name} after logging in");
                break;
        }
    }
}
