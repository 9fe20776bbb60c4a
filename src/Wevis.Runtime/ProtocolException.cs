namespace Wevis;

/// <summary>
/// Bytes received are not a valid Wevis frame or message: a frame over the size limit, an unknown wire id,
/// a body that is not MessagePack or not the shape its message type defines. This is the one exception
/// decoding raises for bad input; a server that catches it closes that connection and logs the reason.
/// </summary>
public sealed class ProtocolException : WevisException
{
    /// <summary>Creates the exception with a reason.</summary>
    public ProtocolException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a reason and the message type involved.</summary>
    public ProtocolException(string message, string? messageName)
        : base(message)
    {
        MessageName = messageName;
    }

    /// <summary>Creates the exception with a reason and the error that revealed it.</summary>
    public ProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with a reason, the message type involved, and the error that revealed it.</summary>
    public ProtocolException(string message, string? messageName, Exception innerException)
        : base(message, innerException)
    {
        MessageName = messageName;
    }

    /// <summary>The name of the message type being read, when known.</summary>
    public string? MessageName { get; }
}
