using System.Buffers;
using Lobby;
using MessagePack;
using Wevis.Runtime.Tests.Reliability;
using Wevis.Serialization;

namespace Wevis.Runtime.Tests.Serialization;

/// <summary>
/// Size bounds (<c>text=str(200)</c>, <c>heights=?d(4096)</c>): a message over one is refused when written, before
/// anything is written, and when read, from the argument's header, with an error that names the message, the
/// argument, its size and the bound; and each message's bound on a whole body.
/// </summary>
public class BoundTests
{
    private static readonly MessageRegistry s_wire = DecoderFuzzTests.s_wire;

    private static MessageDescriptor Descriptor<T>()
        where T : IMessage => s_wire.TryGetByType(typeof(T), out MessageDescriptor? descriptor) ? descriptor : throw new InvalidOperationException(typeof(T).Name);

    private delegate void ArgumentWriter(ref MessagePackWriter writer);

    private static byte[] Body(MessageDescriptor message, ArgumentWriter writeArguments)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(1 + message.Arguments.Count);
        writer.Write(message.WireId);
        writeArguments(ref writer);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads <paramref name="body"/> by every read path, which must fail alike; returns the span path's error.</summary>
    private static ProtocolException ReadFails(byte[] body)
    {
        ProtocolException fromSpan = Assert.Throws<ProtocolException>(() => MessageSerializer.Read(body.AsSpan(), s_wire));
        ProtocolException fromSegments = Assert.Throws<ProtocolException>(
            () => MessageSerializer.Read(DecoderFuzzTests.Segmented(body, [.. Enumerable.Range(1, body.Length)]), s_wire));
        Assert.Equal(fromSpan.Message, fromSegments.Message);
        return fromSpan;
    }

    [Fact]
    public void AStringOverItsBoundIsNotWrittenAndTheErrorNamesEverything()
    {
        var buffer = new ArrayBufferWriter<byte>();
        // 67 characters, 201 bytes of UTF-8: a string's bound counts bytes.
        var talk = new Talk(new string('€', 67));

        ArgumentTooLargeException ex = Assert.Throws<ArgumentTooLargeException>(() => MessageSerializer.Write(buffer, talk));

        Assert.Equal(0, buffer.WrittenCount);
        Assert.Equal(("Talk", "text", "Text", 201L, 200), (ex.MessageName, ex.ArgumentName, ex.ParamName, ex.Size, ex.Bound));
        Assert.StartsWith(
            "The Talk message's argument 'text' holds 201 bytes of UTF-8, over its bound of 200 (text=str(200)); the message was not sent.",
            ex.Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public void ArraysAndBytesOverTheirBoundsAreNotWritten()
    {
        ArgumentTooLargeException heights = Assert.Throws<ArgumentTooLargeException>(
            () => MessageSerializer.ToBytes(new Terrain(new double[4097], [], [])));
        Assert.Equal(("heights", 4097L, 4096), (heights.ArgumentName, heights.Size, heights.Bound));
        Assert.Contains("holds 4097 values, over its bound of 4096 (heights=?d(4096))", heights.Message, StringComparison.Ordinal);

        ArgumentTooLargeException walkable = Assert.Throws<ArgumentTooLargeException>(
            () => MessageSerializer.ToBytes(new Terrain([], new byte[65537], [])));
        Assert.Contains("holds 65537 bytes, over its bound of 65536 (walkable=bytes(65536))", walkable.Message, StringComparison.Ordinal);

        ArgumentTooLargeException shading = Assert.Throws<ArgumentTooLargeException>(
            () => MessageSerializer.ToBytes(new Terrain([], [], new float[4097])));
        Assert.Equal("shading", shading.ArgumentName);
    }

    [Fact]
    public void ArgumentsAtTheirBoundsRoundTrip()
    {
        var talked = new Talked(new string('é', 16), new string('x', 200));
        var terrain = new Terrain(new double[4096], new byte[65536], new float[4096]);

        Assert.Equal(talked, MessageSerializer.Read(MessageSerializer.ToBytes(talked), s_wire));
        Assert.Equal(terrain, MessageSerializer.Read(MessageSerializer.ToBytes(terrain), s_wire));
    }

    [Fact]
    public void AReceivedStringOverItsBoundIsRefusedFromItsHeader()
    {
        MessageDescriptor talk = Descriptor<Talk>();
        byte[] body = Body(talk, (ref MessagePackWriter w) => w.Write(new string('x', 201)));

        ProtocolException ex = ReadFails(body);

        Assert.Equal("Talk", ex.MessageName);
        Assert.Equal("Received a Talk message whose argument 'text' holds 201 bytes, over its bound of 200 (text=str(200)).", ex.Message);
    }

    [Fact]
    public void AHeaderAnnouncingMoreThanTheBoundIsRefusedBeforeTheBytesArrive()
    {
        // A str32 header claiming 4 GiB, with nothing after it: the bound is the reason, not the missing bytes.
        MessageDescriptor talked = Descriptor<Talked>();
        byte[] body = [.. Body(talked, (ref MessagePackWriter w) => w.Write("ok")), 0xdb, 0xff, 0xff, 0xff, 0xff];

        ProtocolException ex = ReadFails(body);

        Assert.Contains("argument 'text' holds 4294967295 bytes, over its bound of 200", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AReceivedStringWithinItsBoundInBytesButNotValidUtf8IsRefused()
    {
        // 32 bytes, each an invalid UTF-8 byte that decodes to U+FFFD (3 bytes): the decoded string could not be sent on.
        MessageDescriptor join = Descriptor<Join>();
        byte[] body = Body(join, (ref MessagePackWriter w) => w.WriteString(Enumerable.Repeat((byte)0xff, 32).ToArray()));

        ProtocolException ex = ReadFails(body);

        Assert.Equal("Received a Join message whose argument 'room' is not valid UTF-8: it decodes to 96 bytes, over its bound of 32 (room=str(32)).", ex.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AReceivedFloatArrayOverItsBoundIsRefusedInEitherForm(bool asBin)
    {
        MessageDescriptor terrain = Descriptor<Terrain>();
        byte[] body = Body(terrain, (ref MessagePackWriter w) =>
        {
            if (asBin)
            {
                w.Write(new byte[4097 * 8]);
            }
            else
            {
                w.WriteArrayHeader(4097);
                for (int i = 0; i < 4097; i++)
                {
                    w.Write(0.5);
                }
            }

            w.Write(Array.Empty<byte>());
            w.Write(Array.Empty<byte>());
        });

        ProtocolException ex = ReadFails(body);

        Assert.Equal("Received a Terrain message whose argument 'heights' holds 4097 values, over its bound of 4096 (heights=?d(4096)).", ex.Message);
    }

    [Fact]
    public void EachMessageHasABoundOnItsWholeBody()
    {
        // Array header and wire id at most 5 + 9 bytes; a number 9; a bounded string its header (5) and bytes.
        Assert.Equal(5 + 9 + 5 + 32, Descriptor<Join>().BodySizeBound);
        Assert.Equal(5 + 9 + 5 + 32 + 9, Descriptor<Joined>().BodySizeBound);
        Assert.Equal(5 + 9 + 9, Descriptor<Heartbeat>().BodySizeBound);
        // Float arrays in their longer form: an array of 9-byte numbers.
        Assert.Equal(5 + 9 + (5 + (9 * 4096)) + (5 + 65536) + (5 + (9 * 4096)), Descriptor<Terrain>().BodySizeBound);
        Assert.Equal(int.MaxValue, Descriptor<Example.YouAre>().BodySizeBound);
    }

    [Fact]
    public void EveryValidBodyIsWithinItsMessagesBound()
    {
        // The longest bodies the writer makes, and the longest encodings a reader accepts.
        var longest = new Terrain(new double[4096], new byte[65536], new float[4096]);
        Assert.True(MessageSerializer.ToBytes(longest).Length <= Descriptor<Terrain>().BodySizeBound);

        MessageDescriptor joined = Descriptor<Joined>();
        byte[] wireId = BitConverter.GetBytes((long)joined.WireId);
        Array.Reverse(wireId);
        byte[] widest =
        [
            0xdd, 0, 0, 0, 3, // array32 of 3 items
            0xcf, .. wireId, // the wire id as uint64
            0xdb, 0, 0, 0, 32, .. new byte[32].Select(_ => (byte)'x'), // str32 of 32 bytes
            0xd3, 0, 0, 0, 0, 0, 0, 0, 7, // int64
        ];
        Assert.Equal(new Joined(new string('x', 32), 7), MessageSerializer.Read(widest, s_wire));
        Assert.Equal(joined.BodySizeBound, widest.Length);
    }
}
