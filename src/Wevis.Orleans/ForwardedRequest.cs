using Wevis.Serialization;

namespace Wevis.Orleans;

/// <summary>
/// A client's request on its way from the gateway to the room's grain: written in its request envelope
/// (<c>[_Request, id, request]</c>) as the client sent it, so that the room's node reads it back as a
/// <see cref="Request{TRequest}"/> with the client's id, and the room's reply, in its reply envelope, finds the
/// client's pending call. The gateway's session had opened the envelope to check it.
/// </summary>
internal sealed class ForwardedRequest(IncomingRequest request) : IMessage, IEnvelope
{
    public int RequestId => request.Id;

    public IMessage Message => request.Message;

    public MessageDescriptor Descriptor => Envelopes.Request;
}
