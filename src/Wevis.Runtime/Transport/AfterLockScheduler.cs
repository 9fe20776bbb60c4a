using System.Diagnostics;
using System.IO.Pipelines;

namespace Wevis.Transport;

/// <summary>
/// The reader scheduler of a <see cref="SendQueue"/>'s pipe: the send loop runs on the thread that flushed, as with
/// <see cref="PipeScheduler.Inline"/> (no thread hop), but never while that thread holds the queue's lock. A
/// continuation the pipe schedules under the lock waits here until the lock is let go and the queue calls
/// <see cref="RunPending"/>.
/// </summary>
/// <remarks>
/// Why: the send loop's continuation is a socket write, a system call. Made under the lock, it kept every other
/// thread writing to the same connection waiting for it: a broadcast, in its room's turn, stalled on each recipient
/// whose own flush was under way on another thread (the lock's slow path, a spin and then a yield), and the room's
/// turn was held that much longer.
/// </remarks>
internal sealed class AfterLockScheduler(Lock queueLock) : PipeScheduler
{
    private Action<object?>? _pending;
    private object? _pendingState;

    /// <inheritdoc/>
    public override void Schedule(Action<object?> action, object? state)
    {
        if (!queueLock.IsHeldByCurrentThread)
        {
            action(state);
            return;
        }

        // The pipe schedules its reader's continuation once per read the reader awaits, so one slot is enough: the
        // next is scheduled only after this one has run and the send loop awaits again.
        Debug.Assert(_pending is null, "One continuation of the send loop waits at a time.");
        _pendingState = state;
        Volatile.Write(ref _pending, action);
    }

    /// <summary>
    /// Runs the send loop's continuation scheduled under the lock, if one waits; called by whoever just let the lock
    /// go. Any such caller may run it, exactly one does.
    /// </summary>
    public void RunPending()
    {
        if (Volatile.Read(ref _pending) is null)
        {
            return;
        }

        Action<object?>? action = Interlocked.Exchange(ref _pending, null);
        if (action is not null)
        {
            // Read before running: no new continuation is scheduled until this one has run.
            object? state = _pendingState;
            _pendingState = null;
            action(state);
        }
    }
}
