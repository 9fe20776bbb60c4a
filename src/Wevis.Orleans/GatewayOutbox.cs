using System.Buffers;
using Microsoft.Extensions.Logging;

namespace Wevis.Orleans;

/// <summary>
/// What one room has for one gateway's users, sent one call at a time so the gateway receives it in the order the
/// room made it: what piles up while a call is under way goes in the next call, so a burst costs few calls.
/// </summary>
internal sealed class GatewayOutbox(string roomId, string gatewayId, IGatewayObserver gateway, ILogger logger)
{
    private readonly Lock _lock = new();
    private ArrayBufferWriter<byte> _pending = new();
    private ArrayBufferWriter<byte> _spare = new();
    private TaskCompletionSource? _idle;
    private bool _dead;

    public string GatewayId => gatewayId;

    /// <summary>Whether a call to the gateway failed: it is taken for gone.</summary>
    public bool IsDead => Volatile.Read(ref _dead);

    public void AddFrame(long session, ReadOnlySpan<byte> frame)
    {
        lock (_lock)
        {
            GatewayRecords.WriteFrame(_pending, session, frame);
            KickLocked();
        }
    }

    public void AddClose(long session, string reason)
    {
        lock (_lock)
        {
            GatewayRecords.WriteClose(_pending, session, reason);
            KickLocked();
        }
    }

    public void AddMove(long session, ClusterMove move)
    {
        lock (_lock)
        {
            GatewayRecords.WriteMove(_pending, session, move);
            KickLocked();
        }
    }

    /// <summary>Completes when everything added so far has been handed to the gateway (or the gateway is gone).</summary>
    public Task DrainAsync()
    {
        lock (_lock)
        {
            return _idle?.Task ?? Task.CompletedTask;
        }
    }

    private void KickLocked()
    {
        if (_dead)
        {
            _pending.ResetWrittenCount();
            return;
        }

        if (_idle is null)
        {
            _idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

            // Off the sender's stack: the rest of a handler's sends join this call.
            ThreadPool.UnsafeQueueUserWorkItem(static outbox => _ = outbox.PumpAsync(), this, preferLocal: false);
        }
    }

    private async Task PumpAsync()
    {
        while (true)
        {
            byte[] records;
            lock (_lock)
            {
                if (_pending.WrittenCount == 0 || _dead)
                {
                    _pending.ResetWrittenCount();
                    _idle!.TrySetResult();
                    _idle = null;
                    return;
                }

                records = _pending.WrittenSpan.ToArray();
                (_pending, _spare) = (_spare, _pending);
                _pending.ResetWrittenCount();
            }

            try
            {
                await gateway.Receive(records).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                OrleansLog.GatewayUnreachable(logger, ex, roomId, gatewayId);
                Volatile.Write(ref _dead, true);
            }
        }
    }
}
