using System.Buffers;
using MessagePack;

namespace Wevis.Serialization;

/// <summary>A request or reply in its envelope: the request's id and the message (docs/protocol.md, Requests and replies).</summary>
internal interface IEnvelope
{
    /// <summary>The id the client gave the request.</summary>
    int RequestId { get; }

    /// <summary>The request, or the reply.</summary>
    IMessage Message { get; }
}

/// <summary>A reply in its envelope, as the client receives it and as the server writes it.</summary>
internal sealed class ReplyEnvelope(int requestId, IMessage message) : IMessage, IEnvelope
{
    public int RequestId { get; } = requestId;

    public IMessage Message { get; } = message;

    public MessageDescriptor Descriptor => Envelopes.Reply;

    public override string ToString() => $"{Message} (reply to request {RequestId})";
}

/// <summary>
/// The two envelopes that carry requests and replies: <c>[wire id of "_Request", id, [wire id, arguments…]]</c> from
/// client to server, and the same with <c>"_Reply"</c> back. They are the protocol's own, but the definitions language
/// cannot say "any message", so they are written here by hand; reading them needs the registry (for the message
/// inside), so <see cref="MessageSerializer"/> hands a body to <see cref="Read(ref WireReader, int, int, MessageRegistry)"/>
/// when its wire id is not in the registry. A request is read into the room's <see cref="Request{TRequest}"/>.
/// </summary>
internal static class Envelopes
{
    /// <summary>The request envelope: client to server.</summary>
    public static readonly EnvelopeDescriptor Request = new("_Request", EnvelopeWireIds.Request, MessageDirection.ClientToServer);

    /// <summary>The reply envelope: server to client.</summary>
    public static readonly EnvelopeDescriptor Reply = new("_Reply", EnvelopeWireIds.Reply, MessageDirection.ServerToClient);

    /// <summary>The most bytes an envelope adds to its message's body: an array header (5), the wire id (9) and the id (9), in their longest forms.</summary>
    public const int MaxOverhead = 5 + 9 + 9;

    /// <summary>The envelope with <paramref name="wireId"/>, if it is one.</summary>
    public static EnvelopeDescriptor? Find(int wireId) =>
        wireId == Request.WireId ? Request : wireId == Reply.WireId ? Reply : null;

    /// <summary>
    /// Reads the rest of a body whose wire id is <paramref name="wireId"/>, if that is an envelope's; null if it is not.
    /// The reader is past the body's header, which said <paramref name="count"/> items.
    /// </summary>
    /// <exception cref="ProtocolException">The envelope or the message in it is not valid.</exception>
    public static IMessage? Read(ref WireReader reader, int count, int wireId, MessageRegistry registry)
    {
        if (Find(wireId) is not { } envelope)
        {
            return null;
        }

        envelope.CheckItems(count);
        int requestId = reader.ReadInt32(envelope, 0);

        // The message inside is read as a body of its own (a reader's header read starts at its start).
        var body = new WireReader(reader.UnreadSpan);
        int innerCount = body.ReadBodyHeader(out int innerId);
        MessageDescriptor inner = envelope.Inner(innerId, registry);
        inner.CheckArgumentCount(innerCount - 1);
        IMessage message = inner.ReadArguments(ref body);
        if (!body.End)
        {
            throw MessageSerializer.TrailingBytes(inner, body.UnreadSpan.Length);
        }

        reader.Advance(body.Consumed);
        return envelope.Open(requestId, message);
    }

    /// <summary>As <see cref="Read(ref WireReader, int, int, MessageRegistry)"/>, for a body not in one span.</summary>
    /// <exception cref="ProtocolException">The envelope or the message in it is not valid.</exception>
    public static IMessage? Read(ref MessagePackReader reader, int count, int wireId, MessageRegistry registry)
    {
        if (Find(wireId) is not { } envelope)
        {
            return null;
        }

        envelope.CheckItems(count);

        // MessagePackReader's own failures go up to MessageSerializer, which explains them by reading the body again
        // with the span reader, so that both paths give the same reason.
        int requestId = WireFormat.ReadInt32(ref reader, envelope, 0);

        // The inner header is judged from its first bytes as the span path judges it (MessageSerializer does the same).
        ReadOnlySequence<byte> rest = reader.Sequence.Slice(reader.Position);
        Span<byte> head = stackalloc byte[6];
        head = head[..(int)Math.Min(head.Length, rest.Length)];
        rest.Slice(0, head.Length).CopyTo(head);
        int innerCount;
        int innerId;
        if (WireReader.TryReadCommonHeader(head, out innerCount, out innerId, out int headerLength))
        {
            reader = new MessagePackReader(rest.Slice(headerLength));
        }
        else
        {
            innerCount = WireFormat.ReadBodyHeader(ref reader);
            innerId = WireFormat.ReadWireId(ref reader);
        }

        MessageDescriptor inner = envelope.Inner(innerId, registry);
        inner.CheckArgumentCount(innerCount - 1);
        IMessage message = inner.ReadArguments(ref reader);
        if (!reader.End)
        {
            throw MessageSerializer.TrailingBytes(inner, reader.Sequence.Length - reader.Consumed);
        }

        return envelope.Open(requestId, message);
    }
}

/// <summary>Describes, writes and (with <see cref="Envelopes"/>) reads one of the two envelopes.</summary>
internal sealed class EnvelopeDescriptor : MessageDescriptor
{
    public EnvelopeDescriptor(string name, int wireId, MessageDirection direction)
        : base(name, wireId, typeof(IEnvelope), [new MessageArgument("request", "Request", ArgumentType.Int32)], direction, [], 0)
    {
    }

    /// <summary>Writes <c>[wire id, request id, message body]</c>; the message's bounds are checked before its body is written.</summary>
    public override void Write(ref MessagePackWriter writer, IMessage message)
    {
        var envelope = (IEnvelope)message;
        writer.WriteArrayHeader(3);
        writer.Write(WireId);
        writer.Write(envelope.RequestId);
        envelope.Message.Descriptor.Write(ref writer, envelope.Message);
    }

    /// <inheritdoc/>
    public override IMessage ReadArguments(ref MessagePackReader reader) =>
        throw new NotSupportedException("An envelope is read with the registry of the message inside it (Envelopes.Read).");

    /// <summary>Throws unless an envelope's array holds its three items.</summary>
    public void CheckItems(int count)
    {
        if (count != 3)
        {
            throw new ProtocolException(
                $"A {Name} envelope holds 3 items (its wire id, the request's id and the message), but the data holds {count}.", Name);
        }
    }

    /// <summary>The type of the message inside, which must be a request in a request envelope.</summary>
    public MessageDescriptor Inner(int wireId, MessageRegistry registry)
    {
        if (!registry.TryGetByWireId(wireId, out MessageDescriptor? inner))
        {
            throw MessageSerializer.UnknownWireId(wireId);
        }

        if (ReferenceEquals(this, Envelopes.Request) && !inner.IsRequest)
        {
            throw new ProtocolException(
                $"{inner.Name} was sent as a request, but it is not one: its definition names no replies ({inner.Definition}).", inner.Name);
        }

        return inner;
    }

    /// <summary>What the receiver handles: the room's view of a request, or a reply in its envelope.</summary>
    public IMessage Open(int requestId, IMessage message) =>
        ReferenceEquals(this, Envelopes.Request) ? message.Descriptor.CreateRequest(requestId, message) : new ReplyEnvelope(requestId, message);
}
