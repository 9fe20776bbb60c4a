using System.Buffers;
using System.Buffers.Binary;
using CsCheck;
using MessagePack;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Reliability;
using Wevis.Serialization;

namespace Wevis.Runtime.Tests.Serialization;

/// <summary>
/// <see cref="MessageSerializer.Read(ReadOnlySpan{byte}, MessageRegistry)"/> reads a body with the span reader
/// (<see cref="WireReader"/>); a body spread over several segments is read with MessagePack-CSharp's
/// <see cref="MessagePackReader"/>. For any bytes at all, valid or not, the two must agree: the same message, or a
/// <see cref="ProtocolException"/> with the same text, and never another exception.
/// </summary>
public class ReadPathAgreementTests
{
    private static readonly MessageRegistry s_wire = DecoderFuzzTests.s_wire;

    /// <summary>An outcome of reading: the message's type and bytes when written again, or the error's text.</summary>
    private sealed record Outcome(string? Type, string? Bytes, string? Error, string? ErrorMessageName);

    private static Outcome Read(Func<IMessage> read)
    {
        try
        {
            IMessage message = read();
            return new Outcome(message.GetType().FullName, Convert.ToHexString(MessageSerializer.ToBytes(message)), null, null);
        }
        catch (ProtocolException ex)
        {
            return new Outcome(null, null, ex.Message, ex.MessageName);
        }
    }

    private static void AssertPathsAgree(byte[] body, int[] cuts)
    {
        Outcome fromSpan = Read(() => MessageSerializer.Read(body.AsSpan(), s_wire));
        Outcome fromMemory = Read(() => MessageSerializer.Read(body.AsMemory(), s_wire));
        ReadOnlySequence<byte> segmented = DecoderFuzzTests.Segmented(body, cuts);
        Outcome fromSegments = Read(() => MessageSerializer.Read(segmented, s_wire));
        ReadOnlySequence<byte> bytewise = DecoderFuzzTests.Segmented(body, [.. Enumerable.Range(1, body.Length)]);
        Outcome fromSingleBytes = Read(() => MessageSerializer.Read(bytewise, s_wire));

        Assert.Equal(fromSpan, fromMemory);
        Assert.Equal(fromSpan, fromSegments);
        Assert.Equal(fromSpan, fromSingleBytes);
    }

    /// <summary>One argument's value in any encoding MessagePack allows, the right type or not.</summary>
    private static readonly Gen<byte[]> s_anyToken = Gen.OneOf(
        from value in Gen.OneOf(Gen.Long, Gen.Long[-300, 300], Gen.Long[int.MinValue - 2L, int.MinValue + 2L], Gen.Long[int.MaxValue - 2L, int.MaxValue + 2L])
        from form in Gen.Int[0, 10]
        select Integer(value, form),
        Gen.ULong[long.MaxValue - 2UL, ulong.MaxValue].Select(v => Encode((ref MessagePackWriter w) => w.WriteUInt64(v))),
        Gen.Double.Select(v => Encode((ref MessagePackWriter w) => w.Write(v))),
        Gen.Float.Select(v => Encode((ref MessagePackWriter w) => w.Write(v))),
        Gen.Bool.Select(v => Encode((ref MessagePackWriter w) => w.Write(v))),
        from bytes in Gen.OneOf(Gen.Byte.Array[0, 40], Gen.String[0, 20].Select(s => System.Text.Encoding.UTF8.GetBytes(s)))
        from form in Gen.Int[0, 3]
        select StringOrBinary(bytes, form, isString: true),
        from bytes in Gen.Byte.Array[0, 40]
        from form in Gen.Int[0, 3]
        select StringOrBinary(bytes, form, isString: false),
        from elements in Gen.OneOf(
            Gen.Long[-200, 70_000].Select(v => Integer(v, 0)),
            Gen.ULong.Select(v => Encode((ref MessagePackWriter w) => w.WriteUInt64(v))),
            Gen.Long.Select(v => Encode((ref MessagePackWriter w) => w.WriteInt64(v))),
            Gen.Float.Select(v => Encode((ref MessagePackWriter w) => w.Write(v))),
            Gen.Double.Select(v => Encode((ref MessagePackWriter w) => w.Write(v))),
            Gen.Const(new byte[] { 0xc0 })).Array[0, 6]
        from form in Gen.Int[0, 2]
        select ArrayOf(elements, form),
        Gen.Const(new byte[] { 0xc0 }),
        Gen.Const(new byte[] { 0x80 }),
        Gen.Const(new byte[] { 0xd4, 0x01, 0x02 }),
        Gen.Int[0, DecoderFuzzTests.s_hostileTokens.Length - 1].Select(i => DecoderFuzzTests.s_hostileTokens[i]));

    /// <summary>A body of a known message type whose header and arguments take any encoding: often valid, often not.</summary>
    private static readonly Gen<byte[]> s_anyEncodingBodies =
        from message in Gen.OneOf(s_wire.Messages.ToArray())
        from countChange in Gen.Frequency((8, Gen.Const(0)), (1, Gen.Int[-2, 2]))
        from headerForm in Gen.Frequency((8, Gen.Const(0)), (1, Gen.Int[1, 2]))
        from idForm in Gen.Frequency((8, Gen.Const(0)), (1, Gen.Int[1, 10]))
        from tokens in Tokens(message.Arguments.Count + Math.Min(0, countChange))
        select (byte[])[.. ArrayHeader(Math.Max(0, message.Arguments.Count + 1 + countChange), headerForm), .. Integer(message.WireId, idForm), .. tokens.SelectMany(t => t)];

    private static Gen<byte[][]> Tokens(int count) => count <= 0 ? Gen.Const(System.Array.Empty<byte[]>()) : s_anyToken.Array[count];

    private static readonly Gen<byte[]> s_bodies = Gen.Frequency(
        (2, DecoderFuzzTests.s_validBodies.Select(v => v.Body)),
        (3, DecoderFuzzTests.s_mutatedBodies),
        (4, s_anyEncodingBodies),
        (2, from body in s_anyEncodingBodies
            from mutations in DecoderFuzzTests.s_mutation.Array[1, 2]
            select mutations.Aggregate(body, (b, m) => m.ApplyTo(b))),
        (1, DecoderFuzzTests.s_randomBodies));

    [Fact]
    public void TheSpanAndSegmentedReadsAgreeOnEveryBody()
    {
        Property.Check(
            from body in s_bodies
            from cuts in Gen.Int[1, 1000].Array[1, 4]
            select (body, cuts),
            input => AssertPathsAgree(input.body, input.cuts),
            iterations: 20_000);
    }

    [Fact]
    public void TheGeneratedBodiesReachEveryOutcome()
    {
        // The agreement above means little unless the bodies reach both decoded messages and errors deep in the arguments.
        var pcg = new PCG(1, 20261124);
        int decoded = 0;
        int argumentErrors = 0;
        for (int i = 0; i < 2_000; i++)
        {
            Outcome outcome = Read(() => MessageSerializer.Read(s_bodies.Generate(pcg, null, out _).AsSpan(), s_wire));
            decoded += outcome.Type is null ? 0 : 1;
            argumentErrors += outcome.Error?.Contains("argument '", StringComparison.Ordinal) == true ? 1 : 0;
        }

        Assert.InRange(decoded, 200, 1_800);
        Assert.InRange(argumentErrors, 100, 1_800);
    }

    [Theory]
    [InlineData("db80000000")] // str32 of 2^31 bytes
    [InlineData("dbffffffff")]
    [InlineData("db7fffffff41")]
    [InlineData("c680000000")] // bin32 of 2^31 bytes
    [InlineData("c6fffffffc00000000")]
    [InlineData("dd80000000")] // array32 of 2^31 items
    [InlineData("ddffffffff")]
    [InlineData("cf8000000000000000")] // uint64 beyond long
    [InlineData("d300000001ffffffff")] // int64 beyond int
    [InlineData("ce80000000")] // uint32 beyond int
    [InlineData("a3c3a9ff")] // invalid UTF-8
    [InlineData("92cf1000001000000001d31000001000000001")] // numbers that float32 rounds differently when converted through float64
    [InlineData("92ca7f800000cb7ff8000000000001")] // infinity and a NaN payload
    [InlineData("c3")]
    [InlineData("ff")]
    [InlineData("d9")]
    [InlineData("cb0000")]
    public void HostileArgumentsGiveTheSameErrorOnBothPaths(string argumentHex)
    {
        byte[] argument = Convert.FromHexString(argumentHex);
        foreach (MessageDescriptor message in s_wire.Messages.Where(m => m.Arguments.Count > 0))
        {
            // The token stands for every argument: where the first is of another type, the next ones get it.
            byte[] body = [.. ArrayHeader(message.Arguments.Count + 1, 0), .. Integer(message.WireId, 0), .. Enumerable.Repeat(argument, message.Arguments.Count).SelectMany(a => a)];
            for (int cut = 1; cut < body.Length; cut++)
            {
                AssertPathsAgree(body, [cut]);
            }
        }
    }

    [Fact]
    public void AHugeLengthFieldIsRefusedWithoutAllocatingIt()
    {
        int floats = ((IMessage)new Example.SomeFloats([], [])).Descriptor.WireId;
        byte[] body = [0x93, .. Integer(floats, 4), 0xc6, 0x7f, 0xff, 0xff, 0xf8, 0, 0, 0, 0, 0xc4, 0];

        long before = GC.GetAllocatedBytesForCurrentThread();
        ProtocolException ex = Assert.Throws<ProtocolException>(() => MessageSerializer.Read(body.AsSpan(), s_wire));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal("Malformed SomeFloats message: argument 'singles' (?f) claims binary data of 2147483640 bytes, but only 6 bytes remain.", ex.Message);
        Assert.True(allocated < 100_000, $"{allocated} bytes allocated");
    }

    [Fact]
    public void AMessageWithoutArgumentsIsOneSharedInstance()
    {
        byte[] body = MessageSerializer.ToBytes(new Example.WhatTimeIsIt());

        Assert.Same(MessageSerializer.Read(body.AsSpan(), s_wire), MessageSerializer.Read(body.AsSpan(), s_wire));
        Assert.Same(MessageSerializer.Read(body.AsSpan(), s_wire), MessageSerializer.Read(DecoderFuzzTests.Segmented(body, [1]), s_wire));
    }

    [Fact]
    public void AMessageWithoutArgumentsWhoseRecordHoldsStateIsMadeAfreshForEachRead()
    {
        byte[] body = MessageSerializer.ToBytes(new Messages.Stamped());

        Assert.NotSame(MessageSerializer.Read(body.AsSpan(), s_wire), MessageSerializer.Read(body.AsSpan(), s_wire));
        Assert.NotSame(MessageSerializer.Read(DecoderFuzzTests.Segmented(body, [1]), s_wire), MessageSerializer.Read(DecoderFuzzTests.Segmented(body, [1]), s_wire));
    }

    private delegate void Writes(ref MessagePackWriter writer);

    private static byte[] Encode(Writes write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        write(ref writer);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary><paramref name="value"/> as the smallest encoding (form 0) or forced into one integer code, truncating it to fit.</summary>
    private static byte[] Integer(long value, int form) => form switch
    {
        1 => Encode((ref MessagePackWriter w) => w.WriteInt64(value)),
        2 => Encode((ref MessagePackWriter w) => w.WriteUInt64((ulong)value)),
        3 => Encode((ref MessagePackWriter w) => w.WriteInt32((int)value)),
        4 => Encode((ref MessagePackWriter w) => w.WriteUInt32((uint)value)),
        5 => Encode((ref MessagePackWriter w) => w.WriteInt16((short)value)),
        6 => Encode((ref MessagePackWriter w) => w.WriteUInt16((ushort)value)),
        7 => Encode((ref MessagePackWriter w) => w.WriteInt8((sbyte)value)),
        8 => Encode((ref MessagePackWriter w) => w.WriteUInt8((byte)value)),
        9 => [(byte)(value & 0x7f)],
        10 => [(byte)(0xe0 | (value & 0x1f))],
        _ => Encode((ref MessagePackWriter w) => w.Write(value)),
    };

    /// <summary>A string or binary header of the smallest form (0) or a forced 8, 16 or 32-bit length, then the bytes.</summary>
    private static byte[] StringOrBinary(byte[] bytes, int form, bool isString)
    {
        byte[] header = form switch
        {
            1 => [isString ? (byte)0xd9 : (byte)0xc4, (byte)bytes.Length],
            2 => [isString ? (byte)0xda : (byte)0xc5, 0, (byte)bytes.Length],
            3 => [isString ? (byte)0xdb : (byte)0xc6, 0, 0, 0, (byte)bytes.Length],
            _ => isString ? Encode((ref MessagePackWriter w) => w.WriteStringHeader(bytes.Length)) : Encode((ref MessagePackWriter w) => w.WriteBinHeader(bytes.Length)),
        };
        return [.. header, .. bytes];
    }

    private static byte[] ArrayOf(byte[][] elements, int form) => [.. ArrayHeader(elements.Length, form), .. elements.SelectMany(e => e)];

    /// <summary>An array header of the smallest form (0), or array16 (1) or array32 (2).</summary>
    private static byte[] ArrayHeader(int count, int form)
    {
        byte[] header = new byte[form switch { 1 => 3, 2 => 5, _ => count < 16 ? 1 : 3 }];
        switch (header.Length)
        {
            case 1: header[0] = (byte)(0x90 | count); break;
            case 3: header[0] = 0xdc; BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(1), (ushort)count); break;
            default: header[0] = 0xdd; BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(1), count); break;
        }

        return header;
    }
}
