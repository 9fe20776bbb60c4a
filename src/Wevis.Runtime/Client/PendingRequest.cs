using System.Threading.Tasks.Sources;
using Wevis.Serialization;

namespace Wevis;

/// <summary>
/// A request the client has sent and not yet had answered: the envelope it goes out in (<c>[_Request, id, request]</c>),
/// and what its caller awaits. It ends once, whichever comes first: the reply, the room's failure, the timeout, the
/// caller's cancellation, or the connection closing.
/// </summary>
internal abstract class PendingRequest : IMessage, IEnvelope
{
    protected PendingRequest(IRequest request) => Message = request;

    /// <summary>The id the table gave it, which the answer carries back.</summary>
    public int RequestId { get; set; }

    /// <summary>The request.</summary>
    public IMessage Message { get; }

    /// <summary>Written as a request envelope.</summary>
    public MessageDescriptor Descriptor => Envelopes.Request;

    /// <summary>Ends with <paramref name="reply"/>, or with <see cref="UnexpectedMessageException"/> if it is not of the reply type; false if already ended.</summary>
    public abstract bool TryComplete(IMessage reply);

    /// <summary>Ends with <paramref name="error"/>; false if already ended.</summary>
    public abstract bool TryFail(Exception error);
}

/// <summary>A pending request whose reply is a <typeparamref name="TReply"/>; its caller awaits it as a <see cref="ValueTask{TReply}"/>.</summary>
/// <remarks>
/// Continuations run where it ends, as <see cref="MessageInbox"/>'s do: for a reply, on the client's receive loop, so
/// that what the caller sends next goes out with the loop's other replies.
/// </remarks>
internal sealed class PendingRequest<TReply> : PendingRequest, IValueTaskSource<TReply>
    where TReply : IServerMessage
{
    private readonly TimeSpan _timeout;
    private ManualResetValueTaskSourceCore<TReply> _core;
    private PendingRequests? _table;
    private ITimer? _timer;
    private CancellationTokenRegistration _cancellation;
    private int _ended;

    public PendingRequest(IRequest<TReply> request, TimeSpan timeout)
        : base(request) => _timeout = timeout;

    /// <summary>The token of the value task its caller awaits.</summary>
    public short Version => _core.Version;

    /// <summary>Starts the timeout and listens for cancellation; an end from either takes it out of <paramref name="table"/>.</summary>
    public void Start(PendingRequests table, TimeProvider time, CancellationToken cancellationToken)
    {
        _table = table;
        if (_timeout != Timeout.InfiniteTimeSpan)
        {
            _timer = time.CreateTimer(static state => ((PendingRequest<TReply>)state!).TimedOut(), this, _timeout, Timeout.InfiniteTimeSpan);
        }

        if (cancellationToken.CanBeCanceled)
        {
            _cancellation = cancellationToken.UnsafeRegister(
                static (state, token) => ((PendingRequest<TReply>)state!).TryFail(new OperationCanceledException(token)), this);
        }

        if (Volatile.Read(ref _ended) != 0)
        {
            // It ended before the timer and the registration existed (the connection closed): let them go too.
            _timer?.Dispose();
            _cancellation.Unregister();
        }
    }

    public override bool TryComplete(IMessage reply)
    {
        if (!End())
        {
            return false;
        }

        if (reply is TReply expected)
        {
            _core.SetResult(expected);
        }
        else
        {
            _core.SetException(new UnexpectedMessageException(typeof(TReply), reply));
        }

        return true;
    }

    public override bool TryFail(Exception error)
    {
        if (!End())
        {
            return false;
        }

        _core.SetException(error);
        return true;
    }

    TReply IValueTaskSource<TReply>.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<TReply>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<TReply>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    private void TimedOut() => TryFail(new TimeoutException(
        $"No reply to the {Message.Descriptor.Name} request (id {RequestId}) arrived within {_timeout.TotalSeconds:0.###} s."));

    /// <summary>Claims the one end: stops the timer and the cancellation and leaves the table. False if it has ended already.</summary>
    private bool End()
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0)
        {
            return false;
        }

        _timer?.Dispose();
        _cancellation.Unregister();
        _table?.Remove(this);
        return true;
    }
}
