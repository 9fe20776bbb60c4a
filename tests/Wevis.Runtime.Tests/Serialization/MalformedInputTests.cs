using System.Buffers;
using Example;
using MessagePack;
using Wevis.Runtime.Tests.Messages;
using Wevis.Serialization;

namespace Wevis.Runtime.Tests.Serialization;

/// <summary>Bytes that are not a message give a <see cref="ProtocolException"/> that says what is wrong, never a half-built message.</summary>
public class MalformedInputTests
{
    private static readonly MessageRegistry s_registry = WevisRegistry.Messages;

    private static int WireId<T>(T message)
        where T : IMessage => message.Descriptor.WireId;

    private static byte[] Body(Action<MessagePackWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        write(writer);
        return buffer.WrittenSpan.ToArray();
    }

    private static ProtocolException Fails(byte[] body) =>
        Assert.Throws<ProtocolException>(() => MessageSerializer.Read(body, s_registry));

    [Fact]
    public void EveryTruncationOfAValidBodyFailsClearly()
    {
        var message = new AllTypes(1, 2, 3.5, true, "label", [1, 2, 3], [1f, 2f], [3d]);
        byte[] body = MessageSerializer.ToBytes(message);

        for (int length = 0; length < body.Length; length++)
        {
            ProtocolException ex = Fails(body[..length]);
            // MessagePack refuses an array header claiming more items than bytes remain (9 items: length < 10)
            // before the wire id is read; from there on the message type is known and named.
            if (length >= 10)
            {
                Assert.True("AllTypes" == ex.MessageName, $"length {length}: {ex.Message}");
            }
        }
    }

    [Fact]
    public void AMistypedArgumentNamesTheMessageTheArgumentAndTheTypes()
    {
        byte[] body = Body(w =>
        {
            w.WriteArrayHeader(3);
            w.Write(WireId(new ItIs(0, 0)));
            w.Write("thirteen");
            w.Write(45);
            w.Flush();
        });

        ProtocolException ex = Fails(body);

        Assert.Equal("Malformed ItIs message: argument 'hours' must be int, but the data holds a string.", ex.Message);
        Assert.Equal("ItIs", ex.MessageName);
    }

    [Fact]
    public void TheWrongNumberOfArgumentsIsRefused()
    {
        byte[] body = Body(w =>
        {
            w.WriteArrayHeader(2);
            w.Write(WireId(new ItIs(0, 0)));
            w.Write(13);
            w.Flush();
        });

        Assert.Contains("has 2 argument(s) (ItIs hours=int minutes=int) but the data holds 1", Fails(body).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownWireIdIsRefused()
    {
        byte[] body = Body(w =>
        {
            w.WriteArrayHeader(1);
            w.Write(12345);
            w.Flush();
        });

        Assert.Contains("Unknown message wire id 12345", Fails(body).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BytesAfterTheLastArgumentAreRefused()
    {
        byte[] body = [.. MessageSerializer.ToBytes(new ItIs(1, 2)), 0xc0];
        Assert.Contains("1 byte(s) follow its last argument", Fails(body).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[] { 0xc0 })]
    [InlineData(new byte[] { 0x90 })]
    [InlineData(new byte[] { 0x2a })]
    [InlineData(new byte[] { 0x91, 0xa1, 0x41 })]
    [InlineData(new byte[] { 0xc1 })]
    [InlineData(new byte[] { })]
    public void BodiesThatAreNotAWireIdArrayAreRefused(byte[] body)
    {
        Fails(body);
    }

    [Fact]
    public void ALengthLargerThanTheDataIsRefusedBeforeAllocating()
    {
        int youAre = WireId(new YouAre("x"));
        int floats = WireId(new SomeFloats([], []));
        byte[] hugeString = [0x92, 0xce, .. BigEndian(youAre), 0xdb, 0x7f, 0xff, 0xff, 0xff, (byte)'a'];
        byte[] hugeBin = [0x93, 0xce, .. BigEndian(floats), 0xc6, 0x7f, 0xff, 0xff, 0xfc, 0, 0, 0, 0];
        byte[] hugeArray = [0x93, 0xce, .. BigEndian(floats), 0xdd, 0x7f, 0xff, 0xff, 0xff, 0xca, 0, 0, 0, 0];

        long before = GC.GetAllocatedBytesForCurrentThread();
        Fails(hugeString);
        Fails(hugeBin);
        Fails(hugeArray);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(allocated < 1_000_000, $"{allocated} bytes were allocated for three tiny malformed bodies");
    }

    [Fact]
    public void AFloatArrayThatIsNotAWholeNumberOfValuesIsRefused()
    {
        int floats = WireId(new SomeFloats([], []));
        byte[] body = [0x93, 0xce, .. BigEndian(floats), 0xc4, 3, 1, 2, 3, 0xc4, 0];

        Assert.Contains("argument 'singles' holds 3 bytes, which is not a whole number of float32 values", Fails(body).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NilIsNotAStringOrArray()
    {
        byte[] body = [0x92, 0xce, .. BigEndian(WireId(new YouAre("x"))), 0xc0];
        Assert.Contains("argument 'name' must be str, but the data holds nil", Fails(body).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnIntegerTooLargeForIntIsRefused()
    {
        byte[] body = Body(w =>
        {
            w.WriteArrayHeader(3);
            w.Write(WireId(new ItIs(0, 0)));
            w.Write(long.MaxValue);
            w.Write(0);
            w.Flush();
        });

        Assert.Equal("ItIs", Fails(body).MessageName);
    }

    private static byte[] BigEndian(int value) =>
        [(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value];
}
