using System.Buffers;
using CsCheck;
using MessagePack;
using Wevis.Runtime.Tests.Reliability;
using Wevis.Runtime.Tests.Requests;
using Wevis.Serialization;

namespace Wevis.Runtime.Tests.Serialization;

/// <summary>
/// Requests and replies travel in envelopes, <c>[wire id of "_Request" or "_Reply", id, [wire id, arguments…]]</c>
/// (docs/protocol.md): they read back as the room's request and the client's reply, by both read paths alike, and
/// anything else in an envelope is a <see cref="ProtocolException"/> that says what is wrong.
/// </summary>
public class EnvelopeTests
{
    private static readonly MessageRegistry s_wire = DecoderFuzzTests.s_wire;

    /// <summary>Reads by the span path and byte by byte by the segmented path; both must give the same.</summary>
    private static IMessage ReadBothWays(byte[] body)
    {
        IMessage fromSpan = MessageSerializer.Read(body.AsSpan(), s_wire);
        IMessage fromSegments = MessageSerializer.Read(DecoderFuzzTests.Segmented(body, [.. Enumerable.Range(1, body.Length)]), s_wire);
        Assert.Equal(fromSpan.ToString(), fromSegments.ToString());
        return fromSpan;
    }

    private static ProtocolException FailsBothWays(byte[] body)
    {
        ProtocolException fromSpan = Assert.Throws<ProtocolException>(() => MessageSerializer.Read(body.AsSpan(), s_wire));
        ProtocolException fromSegments = Assert.Throws<ProtocolException>(
            () => MessageSerializer.Read(DecoderFuzzTests.Segmented(body, [.. Enumerable.Range(1, body.Length)]), s_wire));
        Assert.Equal(fromSpan.Message, fromSegments.Message);
        return fromSpan;
    }

    /// <summary>The array header, the envelope's wire id and the request id, as Wevis writes them.</summary>
    private static byte[] Header(string name, int id)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(3);
        writer.Write(WireId(name));
        writer.Write(id);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A wire id as docs/protocol.md computes it: 32-bit FNV-1a of the UTF-8 name, top bit cleared.</summary>
    private static int WireId(string name)
    {
        uint hash = 2166136261;
        foreach (byte b in System.Text.Encoding.UTF8.GetBytes(name))
        {
            hash = unchecked((hash ^ b) * 16777619);
        }

        return (int)(hash & 0x7FFFFFFF);
    }

    [Fact]
    public void TheEnvelopesWireIdsAreTheDocumentedOnes()
    {
        Assert.Equal((616409987, 259659954), (Envelopes.Request.WireId, Envelopes.Reply.WireId));
        Assert.Equal((WireId("_Request"), WireId("_Reply")), (EnvelopeWireIds.Request, EnvelopeWireIds.Reply));
    }

    [Fact]
    public void TheDocumentedExampleIsWhatIsWritten()
    {
        // docs/protocol.md, Requests and replies.
        var request = new PendingRequest<Lobby.Left>(new Lobby.Leave(), TimeSpan.FromSeconds(1)) { RequestId = 1 };

        Assert.Equal("93CE24BDAB830191CE7A2F3260", Convert.ToHexString(MessageSerializer.ToBytes(request)));
        Assert.Equal("93CE0F7A18B20192CE12773890A56C6F626279", Convert.ToHexString(MessageSerializer.ToBytes(new ReplyEnvelope(1, new Lobby.Left("lobby")))));
        Assert.Equal("93CE77E206AF01A86E6F742068657265", Convert.ToHexString(MessageSerializer.ToBytes(new Wevis.Protocol.Failed(1, "not here"))));
    }

    [Fact]
    public void ARequestReadsBackAsTheRoomsRequest()
    {
        var pending = new PendingRequest<Answer>(new Ask("why?"), TimeSpan.FromSeconds(1)) { RequestId = 70_000 };
        byte[] body = MessageSerializer.ToBytes(pending);

        Request<Ask> request = Assert.IsType<Request<Ask>>(ReadBothWays(body));

        Assert.Equal((70_000, new Ask("why?")), (request.Id, request.Message));
        Assert.Same(((IMessage)new Ask("x")).Descriptor, request.Descriptor);
        Assert.Equal([.. Header("_Request", 70_000), .. MessageSerializer.ToBytes(new Ask("why?"))], body);
    }

    [Fact]
    public void AReplyReadsBackWithItsRequestsId()
    {
        byte[] body = MessageSerializer.ToBytes(new ReplyEnvelope(-5, new Answer("because")));

        ReplyEnvelope reply = Assert.IsType<ReplyEnvelope>(ReadBothWays(body));

        Assert.Equal((-5, new Answer("because")), (reply.RequestId, reply.Message));
    }

    [Fact]
    public void AMessageThatIsNotARequestCannotBeSentAsOne()
    {
        ProtocolException ex = FailsBothWays([.. Header("_Request", 1), .. MessageSerializer.ToBytes(new Answer("no"))]);

        Assert.Equal("Answer was sent as a request, but it is not one: its definition names no replies (server: Answer text=str(64)).", ex.Message);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void AnEnvelopeHoldsThreeItems(int count)
    {
        byte[] body = [.. Header("_Request", 1), .. MessageSerializer.ToBytes(new Ask("x"))];
        body[0] = (byte)(0x90 | count);

        ProtocolException ex = FailsBothWays(body);

        Assert.StartsWith($"A _Request envelope holds 3 items (its wire id, the request's id and the message), but the data holds {count}.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WhatIsInsideIsCheckedAsAnyBody()
    {
        Assert.Equal("Unknown message wire id 12345: no message type in this program has it.", FailsBothWays([.. Header("_Reply", 1), 0x91, 0xcd, 0x30, 0x39]).Message);
        Assert.StartsWith("Unknown message wire id 616409987", FailsBothWays([.. Header("_Request", 1), .. Header("_Request", 2), .. MessageSerializer.ToBytes(new Ask("x"))]).Message, StringComparison.Ordinal);
        Assert.Equal("Malformed Ask message: 1 byte(s) follow its last argument.", FailsBothWays([.. Header("_Request", 1), .. MessageSerializer.ToBytes(new Ask("x")), 0xc0]).Message);
        Assert.StartsWith("Received a Ask message whose argument 'question' holds 65 bytes", FailsBothWays([.. Header("_Request", 1), .. AskBody(new string('x', 65))]).Message, StringComparison.Ordinal);
        Assert.StartsWith("Malformed _Request message: argument 'request' must be int", FailsBothWays([0x93, .. Header("_Request", 1)[1..6], 0xa1, 0x78, .. MessageSerializer.ToBytes(new Ask("x"))]).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BothReadPathsAgreeOnMutatedEnvelopes()
    {
        Gen<byte[]> envelopes =
            from question in Gen.String[0, 70]
            from id in Gen.Int
            from request in Gen.Bool
            select request
                ? MessageSerializer.ToBytes(new PendingRequest<Answer>(new Ask(question.Length > 60 ? "long" : question), TimeSpan.FromSeconds(1)) { RequestId = id })
                : MessageSerializer.ToBytes(new ReplyEnvelope(id, new Echoed(id)));
        Gen<byte[]> mutated =
            from body in envelopes
            from at in Gen.Int[0, 200]
            from kind in Gen.Int[0, 2]
            from value in Gen.Byte
            select Mutate(body, at % (body.Length + 1), kind, value);

        mutated.Sample(body =>
        {
            string Outcome(Func<IMessage> read)
            {
                try
                {
                    return read().ToString()!;
                }
                catch (ProtocolException ex)
                {
                    return "error: " + ex.Message;
                }
            }

            string fromSpan = Outcome(() => MessageSerializer.Read(body.AsSpan(), s_wire));
            string fromSegments = Outcome(() => MessageSerializer.Read(DecoderFuzzTests.Segmented(body, [.. Enumerable.Range(1, body.Length)]), s_wire));
            Assert.Equal(fromSpan, fromSegments);
        }, iter: 3_000, seed: "0N0XIzNsQ0O2");
    }

    private static byte[] Mutate(byte[] body, int at, int kind, byte value)
    {
        List<byte> bytes = [.. body];
        switch (kind)
        {
            case 0 when at < bytes.Count:
                bytes[at] = value;
                break;
            case 1:
                bytes.RemoveRange(at, bytes.Count - at);
                break;
            default:
                bytes.Insert(at, value);
                break;
        }

        return [.. bytes];
    }

    private static byte[] AskBody(string question)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(2);
        writer.Write(((IMessage)new Ask("x")).Descriptor.WireId);
        writer.Write(question);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }
}
