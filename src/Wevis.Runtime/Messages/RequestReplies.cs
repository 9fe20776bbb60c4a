namespace Wevis;

/// <summary>Answers requests with replies whose type the compiler checks.</summary>
public static class RequestReplies
{
    /// <summary>
    /// Answers <paramref name="request"/> with <paramref name="reply"/>, which must be one of the messages its definition
    /// names after <c>-&gt;</c>: anything else does not compile (CS0311). The reply goes out as a message the room
    /// sends does: promptly, or with the handler's other messages when it returns.
    /// </summary>
    /// <typeparam name="TRequest">The request's type.</typeparam>
    /// <typeparam name="TReply">The reply's type.</typeparam>
    /// <exception cref="InvalidOperationException">The request has been answered already.</exception>
    /// <exception cref="ArgumentTooLargeException">An argument of the reply is over its bound (nothing is sent, and the request may still be answered).</exception>
    /// <exception cref="ArgumentException">The reply is not one of the server's message types, or is over the frame limit.</exception>
    public static void Reply<TRequest, TReply>(this Request<TRequest> request, TReply reply)
        where TRequest : class, IRequest<TReply>
        where TReply : IServerMessage
    {
        ArgumentNullException.ThrowIfNull(request);
        request.SendReply(reply);
    }
}
