namespace Wevis;

/// <summary>
/// A request: a client's message that the room answers with a reply, defined with <c>-&gt;</c>
/// (<c>client: WhoAmI -&gt; YouAre</c>). Generated request types implement <see cref="IRequest{TReply}"/>.
/// </summary>
public interface IRequest : IClientMessage
{
}

/// <summary>
/// A request answered by a <typeparamref name="TReply"/>: <c>client: WhoAmI -&gt; YouAre</c> makes <c>WhoAmI</c> an
/// <c>IRequest&lt;YouAre&gt;</c>. A request with several possible replies (<c>Join -&gt; Joined | Full</c>) is an
/// <c>IRequest&lt;IJoinReply&gt;</c>, where the generated interface <c>IJoinReply</c> is implemented by each reply.
/// </summary>
/// <typeparam name="TReply">
/// The reply's type. Contravariant, so that a request with several replies accepts each of them:
/// <c>IRequest&lt;IJoinReply&gt;</c> is also an <c>IRequest&lt;Joined&gt;</c>, which is what lets
/// <see cref="RequestReplies.Reply{TRequest, TReply}"/> check the reply at compile time.
/// </typeparam>
public interface IRequest<in TReply> : IRequest
    where TReply : IServerMessage
{
}
