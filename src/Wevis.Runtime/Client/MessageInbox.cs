using System.Threading.Tasks.Sources;

namespace Wevis;

/// <summary>
/// The client's queue of received messages. The receive loop adds each read's messages at once and wakes a
/// waiting receiver once; that receiver's continuation then runs on the receive loop and finds the rest of the
/// batch already queued, so a burst of replies costs one wake-up, not one per message (and what it sends in
/// reply goes out in one write). One receive may wait at a time.
/// </summary>
internal sealed class MessageInbox : IValueTaskSource<IMessage>
{
    private readonly Lock _lock = new();
    private readonly Queue<IMessage> _queue = new();
    private ManualResetValueTaskSourceCore<IMessage> _waiter; // continuations run inline, on the receive loop
    private CancellationTokenRegistration _cancellation;
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

    /// <summary>The next message, now or when it arrives.</summary>
    /// <exception cref="InvalidOperationException">Another receive is already waiting.</exception>
    public ValueTask<IMessage> DequeueAsync(CancellationToken cancellationToken)
    {
        short version;
        lock (_lock)
        {
            if (_queue.TryDequeue(out IMessage? message))
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
                if (_waiting && first is null)
                {
                    first = message;
                    _waiting = false;
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
        }

        _waiter.SetException(new OperationCanceledException(token));
    }
}
