namespace Wevis;

/// <summary>
/// A request a client sent (<c>client: WhoAmI -&gt; YouAre</c>), as the room receives it: the request message, and the
/// way to answer it. Rooms match on <see cref="Request{TRequest}"/>, which says which request it is.
/// </summary>
/// <remarks>
/// A request is answered once: with a reply (<see cref="RequestReplies.Reply{TRequest, TReply}"/>), or with
/// <see cref="Fail"/>, which the caller gets as a <see cref="RequestFailedException"/> with the reason. The answer
/// may come later, from another handler or a timer (keep the request); a request never answered ends in a timeout on
/// the client. A handler that throws while handling it answers it with a failure, without the exception's text.
/// </remarks>
public abstract class IncomingRequest : IMessage
{
    private IReplyChannel? _channel;
    private int _answered;

    private protected IncomingRequest(int id, IMessage message)
    {
        Id = id;
        Message = message;
    }

    /// <summary>The number the client gave the request, which its answer carries back.</summary>
    public int Id { get; }

    /// <summary>The request message.</summary>
    public IMessage Message { get; }

    /// <summary>The request message's type: so that logs, checks and handlers see a request as the message it carries.</summary>
    public MessageDescriptor Descriptor => Message.Descriptor;

    /// <summary>Whether it has been answered, with a reply or a failure.</summary>
    public bool IsAnswered => Volatile.Read(ref _answered) != 0;

    /// <summary>Answers with a failure: the client's call throws <see cref="RequestFailedException"/> with <paramref name="reason"/>.</summary>
    /// <exception cref="InvalidOperationException">The request has been answered already.</exception>
    public void Fail(string reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        Answering().SendFailure(Id, reason);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Message} (request {Id})";

    /// <summary>Sends the reply; the caller has checked its type against the request's.</summary>
    internal void SendReply(IServerMessage reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        IReplyChannel channel = Answering();
        try
        {
            channel.SendReply(Id, reply);
        }
        catch
        {
            // Not sent (an argument over its bound, say): the request may still be answered.
            Volatile.Write(ref _answered, 0);
            throw;
        }
    }

    /// <summary>Gives the request the connection it came on; called before the room sees it.</summary>
    internal void Attach(IReplyChannel channel) => _channel = channel;

    /// <summary>Answers with a failure if not answered yet: the handler failed. The exception is logged, not sent.</summary>
    internal void FailAfterError() => FailUnanswered("the server failed while handling the request");

    /// <summary>Answers with a failure, saying <paramref name="reason"/>, if not answered yet: the request will not be handled.</summary>
    internal void FailUnanswered(string reason)
    {
        if (_channel is { } channel && Interlocked.Exchange(ref _answered, 1) == 0)
        {
            channel.SendFailure(Id, reason);
        }
    }

    private IReplyChannel Answering()
    {
        IReplyChannel channel = _channel ?? throw new InvalidOperationException("This request did not come from a connection.");
        if (Interlocked.Exchange(ref _answered, 1) != 0)
        {
            throw new InvalidOperationException($"The {Message.Descriptor.Name} request {Id} has been answered already; a request is answered once.");
        }

        return channel;
    }
}

/// <summary>
/// A <typeparamref name="TRequest"/> request as the room receives it. Match on it in a handler and answer through it:
/// <c>case Request&lt;WhoAmI&gt; request: request.Reply(new YouAre(connection.User.Name)); break;</c>. The reply's type
/// is checked at compile time: only the messages the definitions name after <c>-&gt;</c> are accepted.
/// </summary>
/// <typeparam name="TRequest">The request message's type.</typeparam>
public sealed class Request<TRequest> : IncomingRequest
    where TRequest : class, IRequest
{
    internal Request(int id, TRequest message)
        : base(id, message)
    {
        Message = message;
    }

    /// <summary>The request message.</summary>
    public new TRequest Message { get; }
}
