using System.Buffers;
using CsCheck;
using Example;
using MessagePack;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Messages;
using Wevis.Serialization;

namespace Wevis.Runtime.Tests.Serialization;

/// <summary>Every argument type survives a write and a read, including the awkward values.</summary>
public class RoundTripTests
{
    private static readonly MessageRegistry s_registry = WevisRegistry.Messages;

    /// <summary>Strings of valid Unicode scalar values (lone surrogates cannot be UTF-8), empty included.</summary>
    private static readonly Gen<string> s_strings = Gen.OneOf(
        Gen.Const(string.Empty),
        Gen.String,
        Gen.Int[0x20, 0x10FFFF].Where(cp => cp is < 0xD800 or > 0xDFFF).Array[0, 40]
            .Select(codePoints => string.Concat(codePoints.Select(char.ConvertFromUtf32))));

    private static readonly Gen<int> s_ints = Gen.OneOf(Gen.Int, Gen.OneOf(int.MinValue, int.MaxValue, 0, -1, 127, 128, -33));

    private static readonly Gen<long> s_longs = Gen.OneOf(Gen.Long, Gen.OneOf(long.MinValue, long.MaxValue, 0L, uint.MaxValue + 1L));

    private static readonly Gen<double> s_doubles = Gen.OneOf(Gen.Double, Gen.Double.Special);

    private static readonly Gen<float> s_floats = Gen.OneOf(Gen.Float, Gen.Float.Special);

    private static readonly Gen<AllTypes> s_allTypes =
        from count in s_ints
        from total in s_longs
        from ratio in s_doubles
        from flag in Gen.Bool
        from label in s_strings
        from blob in Gen.Byte.Array[0, 300]
        from singles in s_floats.Array[0, 2_000]
        from doubles in s_doubles.Array[0, 2_000]
        select new AllTypes(count, total, ratio, flag, label, blob, singles, doubles);

    private static T RoundTrip<T>(T message)
        where T : IMessage
    {
        byte[] body = MessageSerializer.ToBytes(message);
        return Assert.IsType<T>(MessageSerializer.Read(body, s_registry));
    }

    [Fact]
    public void EveryArgumentTypeRoundTrips()
    {
        Property.Check(s_allTypes, message => Assert.Equal(message, RoundTrip(message)), iterations: 500);
    }

    [Fact]
    public void FloatBitPatternsArePreserved()
    {
        float[] singles = [float.NaN, -0f, float.PositiveInfinity, float.NegativeInfinity, float.Epsilon, BitConverter.Int32BitsToSingle(0x7FC00001)];
        double[] doubles = [double.NaN, -0d, double.PositiveInfinity, double.Epsilon, BitConverter.Int64BitsToDouble(0x7FF8000000000001)];

        SomeFloats back = RoundTrip(new SomeFloats(singles, doubles));

        Assert.Equal(singles.Select(BitConverter.SingleToInt32Bits), back.Singles.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(doubles.Select(BitConverter.DoubleToInt64Bits), back.Doubles.Select(BitConverter.DoubleToInt64Bits));
    }

    [Fact]
    public void AMillionElementArrayRoundTrips()
    {
        double[] doubles = Enumerable.Range(0, 1_000_000).Select(i => i * 0.1).ToArray();
        float[] singles = Enumerable.Range(0, 1_000_000).Select(i => i * 0.5f).ToArray();

        SomeFloats back = RoundTrip(new SomeFloats(singles, doubles));

        Assert.Equal(doubles, back.Doubles);
        Assert.Equal(singles, back.Singles);
    }

    [Fact]
    public void EveryExampleMessageRoundTrips()
    {
        IMessage[] messages =
        [
            new ServerReady(), new WhatTimeIsIt(), new ItIs(13, 45), new WhoAmI(), new YouAre("michael"),
            new PleaseMayIHaveSomeFloats(3, 4), new SomeFloats([0f, 0.1f, 0.2f], [0, 0.1, 0.2, 0.3]),
        ];

        foreach (IMessage message in messages)
        {
            Assert.Equal(message, MessageSerializer.Read(MessageSerializer.ToBytes(message), s_registry));
        }
    }

    [Fact]
    public void CodeDefinedMessagesRoundTrip()
    {
        Assert.Equal(new Move(-3, 7), RoundTrip(new Move(-3, 7)));
        Tagged back = RoundTrip(new Tagged("héllo", [1.5, double.NaN]));
        Assert.Equal("héllo", back.Tag);
        Assert.Equal([1.5, double.NaN], back.Values);
    }

    [Fact]
    public void TheBodyIsAnArrayOfTheWireIdAndTheArguments()
    {
        // FNV-1a("ItIs") with the sign bit cleared is 0x31bd4898: docs/protocol.md.
        byte[] expected = [0x93, 0xce, 0x31, 0xbd, 0x48, 0x98, 13, 45];

        Assert.Equal(expected, MessageSerializer.ToBytes(new ItIs(13, 45)));
        Assert.Equal(0x31bd4898, ((IMessage)new ItIs(0, 0)).Descriptor.WireId);
    }

    [Fact]
    public void FloatArraysAreLittleEndianBinary()
    {
        byte[] body = MessageSerializer.ToBytes(new SomeFloats([1f], [2d]));

        byte[] singles = [0xc4, 4, .. BitConverter.GetBytes(1f)];
        byte[] doubles = [0xc4, 8, .. BitConverter.GetBytes(2d)];
        Assert.Equal([.. singles, .. doubles], body[^(singles.Length + doubles.Length)..]);
    }

    [Fact]
    public void FloatArraysMayAlsoArriveAsMessagePackArraysOfNumbers()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(3);
        writer.Write(((IMessage)new SomeFloats([], [])).Descriptor.WireId);
        writer.WriteArrayHeader(2);
        writer.Write(1.5f);
        writer.Write(2);
        writer.WriteArrayHeader(1);
        writer.Write(-0.25);
        writer.Flush();

        var message = (SomeFloats)MessageSerializer.Read(buffer.WrittenMemory, s_registry);

        Assert.Equal([1.5f, 2f], message.Singles);
        Assert.Equal([-0.25], message.Doubles);
    }

    [Fact]
    public void TheGeneratedResolverServesMessagePackSerializer()
    {
        MessagePackSerializerOptions options = MessagePackSerializerOptions.Standard.WithResolver(WevisRegistry.Resolver);

        byte[] bytes = MessagePackSerializer.Serialize(new ItIs(9, 30), options);

        Assert.Equal(MessageSerializer.ToBytes(new ItIs(9, 30)), bytes);
        Assert.Equal(new ItIs(9, 30), MessagePackSerializer.Deserialize<ItIs>(bytes, options));
        Assert.Null(WevisRegistry.Resolver.GetFormatter<string>());
    }
}
