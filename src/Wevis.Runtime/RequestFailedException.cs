namespace Wevis;

/// <summary>The room answered a request with a failure (<see cref="IncomingRequest.Fail"/>); <see cref="Reason"/> is what it said.</summary>
public sealed class RequestFailedException : WevisException
{
    /// <summary>Creates the exception for the request and the room's reason.</summary>
    /// <param name="requestName">The request message's name.</param>
    /// <param name="reason">The room's reason.</param>
    public RequestFailedException(string requestName, string reason)
        : base($"The server refused the {requestName} request: {reason}")
    {
        RequestName = requestName;
        Reason = reason;
    }

    /// <summary>The request message's name.</summary>
    public string RequestName { get; }

    /// <summary>The reason the room gave.</summary>
    public string Reason { get; }
}
