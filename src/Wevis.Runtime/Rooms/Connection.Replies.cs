using Wevis.Protocol;
using Wevis.Transport;

namespace Wevis;

/// <summary>
/// A connection answers the requests that came on it (<see cref="IReplyChannel"/>): a reply goes out in its envelope
/// (<c>[_Reply, id, reply]</c>), a failure as <c>_Failed(id, reason)</c>, queued and flushed as the room's other sends
/// (and held with them while the user enters a room).
/// </summary>
public abstract partial class Connection : IReplyChannel
{
    void IReplyChannel.SendReply(int requestId, IServerMessage reply)
    {
        FrameBuffer frame = Directory.EncodeReply(requestId, reply);
        try
        {
            SendEncoded(frame.Frame);
        }
        finally
        {
            FrameBuffer.Return(frame);
        }
    }

    void IReplyChannel.SendFailure(int requestId, string reason) => Send(new Failed(requestId, reason));
}
