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

/// <summary>
/// A receive that named the type (or types) it expected got a message of another type. The message has been taken
/// off the queue, as the original's <c>receive_blocking(*names)</c> takes it; it is <see cref="Received"/>.
/// </summary>
public sealed class UnexpectedMessageException : WevisException
{
    /// <summary>Creates the exception for the expected type and the message that arrived instead.</summary>
    public UnexpectedMessageException(Type expected, IMessage received)
        : this([expected], received)
    {
    }

    /// <summary>Creates the exception for the expected types and the message that arrived instead.</summary>
    public UnexpectedMessageException(IReadOnlyList<Type> expected, IMessage received)
        : base($"Expected a {Names(expected)} message but received {received}.")
    {
        ArgumentNullException.ThrowIfNull(received);
        ExpectedTypes = [.. expected];
        Expected = ExpectedTypes.Count > 0 ? ExpectedTypes[0] : typeof(IMessage);
        Received = received;
    }

    /// <summary>The message type the receive expected (the first, if it expected several).</summary>
    public Type Expected { get; }

    /// <summary>Every message type the receive would have accepted.</summary>
    public IReadOnlyList<Type> ExpectedTypes { get; }

    /// <summary>The message that arrived instead (it has been taken off the queue).</summary>
    public IMessage Received { get; }

    /// <summary><c>A</c>, <c>A or B</c>, <c>A, B or C</c>.</summary>
    internal static string Names(IReadOnlyList<Type> types)
    {
        ArgumentNullException.ThrowIfNull(types);
        return types.Count switch
        {
            0 => throw new ArgumentException("At least one expected type is needed.", nameof(types)),
            1 => types[0].Name,
            _ => string.Join(", ", types.Take(types.Count - 1).Select(t => t.Name)) + " or " + types[^1].Name,
        };
    }
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
