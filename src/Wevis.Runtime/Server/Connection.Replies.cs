using Wevis.Protocol;
using Wevis.Serialization;
using Wevis.Transport;

namespace Wevis;

/// <summary>
/// A connection answers the requests that came on it (<see cref="IReplyChannel"/>): a reply goes out in its envelope
/// (<c>[_Reply, id, reply]</c>), a failure as <c>_Failed(id, reason)</c>, queued and flushed as the room's other sends.
/// </summary>
public sealed partial class Connection : IReplyChannel
{
    void IReplyChannel.SendReply(int requestId, IServerMessage reply)
    {
        _server.CheckOutgoing(reply);
        FrameBuffer frame = FrameBuffer.Encode(new ReplyEnvelope(requestId, reply));
        try
        {
            if (frame.BodyLength > Transport.Limits.MaxFrameSize)
            {
                throw new ArgumentException(
                    $"The {reply.Descriptor.Name} reply is {frame.BodyLength} bytes, over the frame limit of {Transport.Limits.MaxFrameSize} bytes.",
                    nameof(reply));
            }

            Transport.TrySendFrame(frame.Frame);
        }
        finally
        {
            FrameBuffer.Return(frame);
        }
    }

    void IReplyChannel.SendFailure(int requestId, string reason) => Transport.TrySend(new Failed(requestId, reason));
}
