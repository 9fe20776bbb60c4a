using System.Net.Sockets;

namespace Wevis.Transport;

/// <summary>The receive loop on a thread of its own, for a connection that wants the least latency.</summary>
internal sealed partial class MessageConnection
{
    /// <summary>
    /// Receives as <see cref="ReceiveFromSocketAsync"/> does, on a new background thread that waits in the kernel for
    /// the socket to become readable. The kernel then wakes that thread itself; the thread pool's receive is woken by
    /// the runtime's socket event thread, which hands the read to a pool thread: one wake-up more per read.
    /// </summary>
    /// <remarks>
    /// The handler runs on this thread, as it runs on a pool thread otherwise; one that does not finish synchronously
    /// blocks the thread until it does (the client's never wait). Aborting shuts the receiving side, which ends the
    /// wait as the peer's close would.
    /// </remarks>
    private Task<ReceiveOutcome> ReceiveOnOwnThread(Socket socket, SocketReceiveBuffer received, IMessageBatchHandler handler, string threadName)
    {
        var outcome = new TaskCompletionSource<ReceiveOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                outcome.SetResult(ReceiveBlocking(socket, received, handler));
            }
            catch (Exception ex)
            {
                outcome.SetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = threadName,
        };
        thread.UnsafeStart();
        return outcome.Task;
    }

    private ReceiveOutcome ReceiveBlocking(Socket socket, SocketReceiveBuffer received, IMessageBatchHandler handler)
    {
        try
        {
            while (true)
            {
                // Poll waits in the kernel even though the socket is non-blocking (it has been used asynchronously),
                // where a blocking Receive would wait for the runtime's socket event thread instead.
                socket.Poll(-1, SelectMode.SelectRead);
                int read = socket.Receive(received.GetReadSpace(MaxIncomingFrameSize).Span, SocketFlags.None);
                ProtocolException? violation = TakeReceivedFrames(received, read);
                ValueTask<ReceiveOutcome?> handled = HandleFramesAsync(handler, violation, ended: read == 0);
                if ((handled.IsCompletedSuccessfully ? handled.Result : handled.AsTask().GetAwaiter().GetResult()) is { } outcome)
                {
                    return outcome;
                }
            }
        }
        catch (Exception ex) when (NetworkErrors.IsNetworkError(ex))
        {
            return LostOutcome(ex);
        }
        finally
        {
            received.Release();
        }
    }
}
