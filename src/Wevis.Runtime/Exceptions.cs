namespace Wevis;

/// <summary>The base of the exceptions Wevis throws for what happens on a connection.</summary>
public class WevisException : Exception
{
    /// <summary>Creates the exception with a reason.</summary>
    public WevisException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a reason and the error behind it.</summary>
    public WevisException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>A client could not connect: the server is unreachable, TLS failed, or the handshake went wrong.</summary>
public sealed class ConnectionFailedException : WevisException
{
    /// <summary>Creates the exception with a reason and the error behind it.</summary>
    public ConnectionFailedException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>The server refused the login; <see cref="Reason"/> is what it said.</summary>
public sealed class LoginRejectedException : WevisException
{
    /// <summary>Creates the exception with the server's reason.</summary>
    public LoginRejectedException(string reason)
        : base("The server rejected the login: " + reason)
    {
        Reason = reason;
    }

    /// <summary>The reason the server gave.</summary>
    public string Reason { get; }
}

/// <summary>
/// The connection is closed (by the server, by this side, or lost). A receive that was waiting, or any receive
/// after the close, ends with this exception; <see cref="Reason"/> says why.
/// </summary>
public sealed class ConnectionClosedException : WevisException
{
    /// <summary>Creates the exception with the reason the connection closed.</summary>
    public ConnectionClosedException(string reason, Exception? innerException = null)
        : base("The connection is closed: " + reason, innerException)
    {
        Reason = reason;
    }

    /// <summary>Why the connection closed.</summary>
    public string Reason { get; }
}

/// <summary>A receive that named the type it expected got a message of another type.</summary>
public sealed class UnexpectedMessageException : WevisException
{
    /// <summary>Creates the exception for the expected type and the message that arrived instead.</summary>
    public UnexpectedMessageException(Type expected, IMessage received)
        : base($"Expected a {expected.Name} message but received {received}.")
    {
        Expected = expected;
        Received = received;
    }

    /// <summary>The message type the receive expected.</summary>
    public Type Expected { get; }

    /// <summary>The message that arrived instead (it has been taken off the queue).</summary>
    public IMessage Received { get; }
}

/// <summary>The server refused a client's request to join, create or leave a room; <see cref="Reason"/> says why.</summary>
public sealed class JoinRefusedException : WevisException
{
    /// <summary>Creates the exception with the server's reason.</summary>
    public JoinRefusedException(string reason)
        : base("The server refused the room request: " + reason)
    {
        Reason = reason;
    }

    /// <summary>Why the server refused (the room is full, locked, closed or unknown…).</summary>
    public string Reason { get; }
}
