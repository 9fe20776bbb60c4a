using System.Diagnostics.CodeAnalysis;
using System.Threading.Tasks.Sources;

namespace Wevis;

/// <summary>
/// The client's queue of received messages. The receive loop adds each read's messages at once and wakes a
/// waiting receiver once; that receiver's continuation then runs on the receive loop and finds the rest of the
/// batch already queued, so a burst of replies costs one wake-up, not one per message (and what it sends in
/// reply goes out in one write). One receive may wait at a time. A receive may take only the messages a filter
/// accepts (<see cref="Client.WaitForAsync{T}"/>): it takes the first such, and the others stay queued, in order.
/// </summary>
internal sealed class MessageInbox : IValueTaskSource<IMessage>
{
    private readonly Lock _lock = new();
    private readonly MessageQueue _queue = new();
    private ManualResetValueTaskSourceCore<IMessage> _waiter; // continuations run inline, on the receive loop
    private CancellationTokenRegistration _cancellation;
    private Func<IMessage, bool>? _accepts; // the waiting receive's filter; null takes any message
    private bool _waiting;
    private bool _completed;
    private Exception? _completion;

    /// <summary>Takes the next message if there is one.</summary>
    /// <exception cref="Exception">The inbox is complete and empty: the exception it was completed with.</exception>
    public bool TryDequeue(out IMessage? message)
    {
        lock (_lock)
        {
            return _queue.TryDequeue(out message);
        }
    }

    /// <summary>Takes the first message <paramref name="accepts"/> accepts, if one has arrived; the others stay queued, in order.</summary>
    public bool TryTake(Func<IMessage, bool> accepts, [NotNullWhen(true)] out IMessage? message)
    {
        lock (_lock)
        {
            return _queue.TryTakeFirst(accepts, out message);
        }
    }

    /// <summary>The next message, now or when it arrives.</summary>
    /// <exception cref="InvalidOperationException">Another receive is already waiting.</exception>
    public ValueTask<IMessage> DequeueAsync(CancellationToken cancellationToken) => DequeueAsync(null, cancellationToken);

    /// <summary>
    /// The first message <paramref name="accepts"/> accepts (any message if it is null), now or when it arrives;
    /// messages it does not accept stay queued, in order, for later receives.
    /// </summary>
    /// <exception cref="InvalidOperationException">Another receive is already waiting.</exception>
    public ValueTask<IMessage> DequeueAsync(Func<IMessage, bool>? accepts, CancellationToken cancellationToken)
    {
        short version;
        lock (_lock)
        {
            if (accepts is null ? _queue.TryDequeue(out IMessage? message) : _queue.TryTakeFirst(accepts, out message))
            {
                return new ValueTask<IMessage>(message);
            }

            if (_completed)
            {
                return ValueTask.FromException<IMessage>(_completion!);
            }

            if (_waiting)
            {
                throw new InvalidOperationException("Another receive is already waiting for a message; receive one at a time.");
            }

            if (cancellationToken.IsCancellationRequested)
            {
                return ValueTask.FromCanceled<IMessage>(cancellationToken);
            }

            _waiting = true;
            _accepts = accepts;
            _waiter.Reset();
            version = _waiter.Version;
        }

        if (cancellationToken.CanBeCanceled)
        {
            _cancellation = cancellationToken.UnsafeRegister(
                static (state, token) => ((MessageInbox)state!).Cancel(token),
                this);
        }

        return new ValueTask<IMessage>(this, version);
    }

    /// <summary>Adds a batch of messages, in order, waking a waiting receiver with the first.</summary>
    public void EnqueueRange(List<IMessage> messages)
    {
        IMessage? first = null;
        lock (_lock)
        {
            if (_completed)
            {
                return;
            }

            foreach (IMessage message in messages)
            {
                if (_waiting && (_accepts is null || _accepts(message)))
                {
                    first = message;
                    _waiting = false;
                    _accepts = null;
                }
                else
                {
                    _queue.Enqueue(message);
                }
            }
        }

        if (first is not null)
        {
            _waiter.SetResult(first);
        }
    }

    /// <summary>
    /// Ends the inbox: messages already queued can still be taken; then every receive fails with
    /// <paramref name="error"/>. A waiting receiver fails at once.
    /// </summary>
    public void Complete(Exception error)
    {
        bool wake;
        lock (_lock)
        {
            if (_completed)
            {
                return;
            }

            _completed = true;
            _completion = error;
            wake = _waiting;
            _waiting = false;
            _accepts = null;
        }

        if (wake)
        {
            _waiter.SetException(error);
        }
    }

    IMessage IValueTaskSource<IMessage>.GetResult(short token)
    {
        _cancellation.Unregister();
        return _waiter.GetResult(token);
    }

    ValueTaskSourceStatus IValueTaskSource<IMessage>.GetStatus(short token) => _waiter.GetStatus(token);

    void IValueTaskSource<IMessage>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _waiter.OnCompleted(continuation, state, token, flags);

    private void Cancel(CancellationToken token)
    {
        lock (_lock)
        {
            if (!_waiting)
            {
                return;
            }

            _waiting = false;
            _accepts = null;
        }

        _waiter.SetException(new OperationCanceledException(token));
    }
}
