using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;
using CsCheck;
using MessagePack;
using Wevis.Serialization;
using Wevis.Transport;
using Xunit.Abstractions;

namespace Wevis.Runtime.Tests.Reliability;

/// <summary>
/// Fuzzes the frame decoder (both <c>FrameReader.TryReadFrame</c> overloads: the span one a plain socket uses and
/// the sequence one TLS uses) and every message type's generated deserializer (<see cref="MessageSerializer"/>,
/// from a span and from a sequence of segments): valid input decodes, to what it was made from; any other input
/// either decodes to a message that encodes back to a body that decodes the same, or raises
/// <see cref="ProtocolException"/>, the same on both paths; never another exception, a hang, or an allocation out
/// of proportion to the input. The counts of each outcome are asserted, so a decoder that refused everything (or
/// nothing) fails.
/// </summary>
/// <remarks>
/// In CI each test draws a fixed number of cases from a fixed seed, so a failure reproduces exactly. Set
/// <c>WEVIS_FUZZ_SECONDS</c> to run each test for that many seconds from fresh random seeds instead, on every
/// core, with CsCheck shrinking a failure to a small input (docs/reliability.md).
/// </remarks>
public class DecoderFuzzTests(ITestOutputHelper output)
{
    public const string LongModeVariable = "WEVIS_FUZZ_SECONDS";

    private const int MaxFrameSize = 4096;

    /// <summary>
    /// The allocation allowed for decoding an input of n bytes: 16n + 64 KiB. The largest legitimate growth is an
    /// <c>?d</c> argument sent as an array of 1-byte integers, which becomes 8 bytes per element; the constant
    /// covers the message object and a <see cref="ProtocolException"/> with its message and stack trace.
    /// </summary>
    private static long AllocationAllowance(long inputLength) => (16 * inputLength) + (64 * 1024);

    internal static readonly MessageRegistry s_wire = MessageRegistry.Combine(Wevis.WevisRegistry.Messages, WevisRegistry.Messages);

    private static readonly MessageDescriptor[] s_descriptors = [.. s_wire.Messages];

    /// <summary>MessagePack headers that claim much more data than follows, and type codes no argument accepts.</summary>
    internal static readonly byte[][] s_hostileTokens =
    [
        [0xdb, 0xff, 0xff, 0xff, 0xff], [0xdb, 0x7f, 0xff, 0xff, 0xff], [0xda, 0xff, 0xff], [0xd9, 0xff],
        [0xc6, 0xff, 0xff, 0xff, 0xfc], [0xc6, 0x80, 0x00, 0x00, 0x00], [0xc6, 0x7f, 0xff, 0xff, 0xf8], [0xc5, 0xff, 0xff], [0xc4, 0xff],
        [0xdd, 0xff, 0xff, 0xff, 0xff], [0xdd, 0x80, 0x00, 0x00, 0x00], [0xdd, 0x7f, 0xff, 0xff, 0xff], [0xdc, 0xff, 0xff],
        [0xdf, 0xff, 0xff, 0xff, 0xff], [0xde, 0xff, 0xff], [0xc9, 0xff, 0xff, 0xff, 0xff, 0x01], [0xc8, 0xff, 0xff, 0x01], [0xd8, 0x01],
        [0xc1], [0xc0], [0xc2], [0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0],
        [0xce, 0xff, 0xff, 0xff, 0xff], [0xca, 0x7f, 0xc0, 0, 0], [0xcb, 0xff, 0xf8, 0, 0, 0, 0, 0, 0], [0x9f], [0x80], [0xa5, 0xff, 0xfe, 0xed, 0xa0, 0x80],
    ];

    /// <summary>Frame lengths worth trying: the edges of the limit, and lengths that must never be allocated.</summary>
    private static readonly uint[] s_hostileLengths = [0, 1, MaxFrameSize - 1, MaxFrameSize, MaxFrameSize + 1, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF];

    private static readonly Gen<string> s_strings = Gen.OneOf(Gen.Const(string.Empty), Gen.String, Gen.Char.Array[0, 40].Select(c => new string(c)));

    /// <summary>A valid body for <paramref name="message"/>: its wire id and random arguments, encoded as Wevis writes them.</summary>
    private static Gen<byte[]> ValidBody(MessageDescriptor message)
    {
        Gen<List<object>> arguments = Gen.Const(() => new List<object>());
        foreach (MessageArgument argument in message.Arguments)
        {
            Gen<object> value = ArgumentValue(argument.Type, argument.Bound ?? int.MaxValue);
            arguments = from list in arguments from v in value select Append(list, v);
        }

        return arguments.Select(values => Encode(message, values));
    }

    private static List<object> Append(List<object> list, object value) => [.. list, value];

    /// <summary>A valid value of an argument of <paramref name="type"/>, within <paramref name="bound"/> (bytes of UTF-8, bytes or values).</summary>
    private static Gen<object> ArgumentValue(ArgumentType type, int bound) => type switch
    {
        ArgumentType.Int32 => Gen.OneOf(Gen.Int, Gen.Int[-40, 300]).Select(v => (object)v),
        ArgumentType.Int64 => Gen.OneOf(Gen.Long, Gen.Long[-40, 70_000]).Select(v => (object)v),
        ArgumentType.Double => Gen.OneOf(Gen.Double, Gen.Double.Special).Select(v => (object)v),
        ArgumentType.Boolean => Gen.Bool.Select(v => (object)v),
        ArgumentType.String => s_strings.Where(v => System.Text.Encoding.UTF8.GetByteCount(v) <= bound).Select(v => (object)v),
        ArgumentType.Bytes => Gen.Byte.Array[0, Math.Min(64, bound)].Select(v => (object)v),
        ArgumentType.SingleArray => Gen.OneOf(Gen.Float, Gen.Float.Special).Array[0, Math.Min(16, bound)].Select(v => (object)v),
        ArgumentType.DoubleArray => Gen.OneOf(Gen.Double, Gen.Double.Special).Array[0, Math.Min(16, bound)].Select(v => (object)v),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    private static byte[] Encode(MessageDescriptor message, List<object> values)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(1 + values.Count);
        writer.Write(message.WireId);
        for (int i = 0; i < values.Count; i++)
        {
            switch (values[i])
            {
                case int v: writer.Write(v); break;
                case long v: writer.Write(v); break;
                case double v: writer.Write(v); break;
                case bool v: writer.Write(v); break;
                case string v: writer.Write(v); break;
                case byte[] v: writer.Write(v.AsSpan()); break;
                case float[] v: writer.Write(MemoryMarshal.AsBytes(v.AsSpan())); break;
                case double[] v: writer.Write(MemoryMarshal.AsBytes(v.AsSpan())); break;
            }
        }

        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    private static readonly Gen<MessageDescriptor> s_descriptor = Gen.OneOf(s_descriptors);

    internal static readonly Gen<(MessageDescriptor Message, byte[] Body)> s_validBodies =
        from message in s_descriptor
        from body in ValidBody(message)
        select (message, body);

    /// <summary>One structure-aware change to a body.</summary>
    internal sealed record Mutation(int Kind, int Position, int Length, byte[] Bytes, int Token, int OtherMessage)
    {
        public byte[] ApplyTo(byte[] body)
        {
            int at = body.Length == 0 ? 0 : Position % (body.Length + 1);
            List<byte> bytes = [.. body];
            switch (Kind)
            {
                case 0 when at < bytes.Count: // change one byte
                    bytes[at] = Bytes.Length > 0 ? Bytes[0] : (byte)~bytes[at];
                    break;
                case 1: // cut off
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 2: // insert random bytes
                    bytes.InsertRange(at, Bytes);
                    break;
                case 3: // delete a run
                    bytes.RemoveRange(at, Math.Min(Length, bytes.Count - at));
                    break;
                case 4: // overwrite with a hostile MessagePack token
                    byte[] token = s_hostileTokens[Token % s_hostileTokens.Length];
                    bytes.RemoveRange(at, Math.Min(token.Length, bytes.Count - at));
                    bytes.InsertRange(at, token);
                    break;
                case 5 when bytes.Count >= 6 && bytes[1] == 0xce: // another message's wire id over these arguments
                    BinaryPrimitives.WriteInt32BigEndian(CollectionsMarshal.AsSpan(bytes)[2..], s_descriptors[OtherMessage % s_descriptors.Length].WireId);
                    break;
                case 6 when bytes.Count > 0: // a different argument count
                    bytes[0] = (byte)(0x90 | (Length & 0x0f));
                    break;
                default: // append
                    bytes.AddRange(Bytes);
                    break;
            }

            return [.. bytes];
        }
    }

    internal static readonly Gen<Mutation> s_mutation =
        from kind in Gen.Int[0, 7]
        from position in Gen.Int[0, int.MaxValue]
        from length in Gen.Int[0, 40]
        from bytes in Gen.Byte.Array[0, 12]
        from token in Gen.Int[0, int.MaxValue]
        from other in Gen.Int[0, int.MaxValue]
        select new Mutation(kind, position, length, bytes, token, other);

    internal static readonly Gen<byte[]> s_mutatedBodies =
        from valid in s_validBodies
        from mutations in s_mutation.Array[1, 4]
        select mutations.Aggregate(valid.Body, (body, mutation) => mutation.ApplyTo(body));

    internal static readonly Gen<byte[]> s_randomBodies = Gen.OneOf(
        Gen.Byte.Array[0, 300],
        from header in Gen.Byte[0x90, 0x9f]
        from rest in Gen.Byte.Array[0, 64]
        select (byte[])[header, .. rest]);

    /// <summary>What a generated frame is: a valid message, a mutated or random body, a lying length, or bytes that are not a frame.</summary>
    internal enum FrameKind
    {
        Valid,
        Mutated,
        Random,
        HostileLength,
        Garbage,
    }

    /// <summary>One frame of a generated stream, with the body it was made from if it is valid.</summary>
    internal sealed record GeneratedFrame(FrameKind Kind, byte[] Bytes, byte[]? ValidBody);

    private static readonly Gen<GeneratedFrame> s_frames = Gen.Frequency(
        (3, s_validBodies.Select(v => new GeneratedFrame(FrameKind.Valid, Frame((uint)v.Body.Length, v.Body), v.Body))),
        (3, s_mutatedBodies.Select(b => new GeneratedFrame(FrameKind.Mutated, Frame((uint)b.Length, b), null))),
        (1, s_randomBodies.Select(b => new GeneratedFrame(FrameKind.Random, Frame((uint)b.Length, b), null))),
        (1, from length in Gen.OneOf(s_hostileLengths) from body in Gen.Byte.Array[0, 40] select new GeneratedFrame(FrameKind.HostileLength, Frame(length, body), null)),
        (1, Gen.Byte.Array[0, 40].Select(b => new GeneratedFrame(FrameKind.Garbage, b, null))));

    /// <summary>A received byte stream: one to six generated frames, cut into segments at random (for the sequence path).</summary>
    private static readonly Gen<(GeneratedFrame[] Frames, int[] Cuts)> s_streams =
        from frames in s_frames.Array[1, 6]
        from cuts in Gen.Int[0, 1000].Array[0, 5]
        select (frames, cuts);

    private static byte[] Frame(uint length, byte[] body)
    {
        byte[] frame = new byte[4 + body.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, length);
        body.CopyTo(frame, 4);
        return frame;
    }

    [Fact]
    public void EveryValidBodyOfEveryMessageTypeDecodesOnBothPathsAndEncodesBackToTheSameBytes()
    {
        (int decoded, int total) = Run(s_validBodies, valid =>
        {
            Assert.True(DecodeBody(valid.Body, out string? encoded), $"a valid {valid.Message.Name} body did not decode");
            Assert.Equal(Convert.ToHexString(valid.Body), encoded);
            Assert.Same(valid.Message, MessageSerializer.Read(valid.Body, s_wire).Descriptor);
            return true;
        }, v => v.Body.Length, cases: 3_000, print: v => $"{v.Message.Name}: {Convert.ToHexString(v.Body)}");

        Assert.Equal(total, decoded);
    }

    [Fact]
    public void MutatedBodiesDecodeOrRaiseOnlyProtocolExceptionAlikeOnBothPaths()
    {
        (int decoded, int total) = Run(s_mutatedBodies, b => DecodeBody(b, out _), b => b.Length, cases: 10_000, print: Convert.ToHexString);

        // Both outcomes must occur, or the mutations are not reaching the decoder's checks (or its successes).
        output.WriteLine($"{decoded} of the {total} mutated bodies still decoded to a valid message");
        Assert.InRange(decoded, 1, total - 1);
    }

    [Fact]
    public void RandomBodiesDecodeOrRaiseOnlyProtocolExceptionAlikeOnBothPaths()
    {
        (int decoded, int total) = Run(s_randomBodies, b => DecodeBody(b, out _), b => b.Length, cases: 5_000, print: Convert.ToHexString);

        output.WriteLine($"{decoded} of the {total} random bodies decoded");
        Assert.True(decoded < total, "every random body decoded: the decoder refuses nothing");
    }

    [Fact]
    public void TheFrameDecoderTakesValidFramesAndRaisesOnlyProtocolExceptionAlikeOnTheSpanAndSequencePaths()
    {
        int validFrames = 0, wholeStreams = 0, mutatedDecoded = 0, mutatedRefused = 0, hostileRefused = 0, incomplete = 0;
        Run(
            s_streams,
            input =>
            {
                byte[] stream = [.. input.Frames.SelectMany(f => f.Bytes)];
                StreamOutcome fromSpan = DecodeStreamFromSpan(stream);
                StreamOutcome fromSegments = DecodeStreamFromSegments(stream, input.Cuts);
                Assert.Equal(fromSpan.Messages, fromSegments.Messages);
                Assert.Equal(fromSpan.Error, fromSegments.Error);
                Assert.Equal(fromSpan.Left, fromSegments.Left);

                // The valid frames before the first other one decode, each to the message it was made from.
                GeneratedFrame[] leading = [.. input.Frames.TakeWhile(f => f.Kind == FrameKind.Valid)];
                Assert.True(fromSpan.Messages.Count >= leading.Length, $"{fromSpan.Messages.Count} of {leading.Length} valid frames decoded; then: {fromSpan.Error}");
                for (int i = 0; i < leading.Length; i++)
                {
                    Assert.Equal(Convert.ToHexString(leading[i].ValidBody!), fromSpan.Messages[i]);
                }

                Interlocked.Add(ref validFrames, leading.Length);
                if (leading.Length == input.Frames.Length)
                {
                    // Nothing but valid frames: all of them, and nothing left over.
                    Assert.Equal(leading.Length, fromSpan.Messages.Count);
                    Assert.Null(fromSpan.Error);
                    Assert.Equal(0, fromSpan.Left);
                    Interlocked.Increment(ref wholeStreams);
                }
                else
                {
                    FrameKind next = input.Frames[leading.Length].Kind;
                    bool nextDecoded = fromSpan.Messages.Count > leading.Length;
                    if (next == FrameKind.Mutated)
                    {
                        Interlocked.Increment(ref nextDecoded ? ref mutatedDecoded : ref mutatedRefused);
                    }
                    else if (next == FrameKind.HostileLength && fromSpan.Error is not null && !nextDecoded)
                    {
                        Interlocked.Increment(ref hostileRefused);
                    }
                }

                if (fromSpan.Left > 0)
                {
                    Interlocked.Increment(ref incomplete);
                }

                return fromSpan.Messages.Count > 0;
            },
            i => i.Frames.Sum(f => f.Bytes.Length),
            cases: 5_000,
            print: i => $"[{string.Join(", ", i.Frames.Select(f => $"{f.Kind} {Convert.ToHexString(f.Bytes)}"))}] cut at [{string.Join(", ", i.Cuts)}]");

        output.WriteLine($"{validFrames} valid frames decoded, {wholeStreams} streams of valid frames only; mutated frames decoded {mutatedDecoded}, refused {mutatedRefused}; "
            + $"{hostileRefused} hostile lengths refused; {incomplete} streams ended in an incomplete frame");
        Assert.True(validFrames > 0 && wholeStreams > 0, "no stream of valid frames was decoded");
        Assert.True(mutatedDecoded > 0 && mutatedRefused > 0, "mutated frames were not both decoded and refused");
        Assert.True(hostileRefused > 0, "no hostile length was refused");
        Assert.True(incomplete > 0, "no stream ended in an incomplete frame");
    }

    /// <summary>What decoding a body or a stream came to: messages (re-encoded, in hex), the error that stopped it, the bytes left.</summary>
    private sealed record StreamOutcome(List<string> Messages, string? Error, long Left);

    /// <summary>
    /// Decodes one body from its span and from a sequence of three segments; checks both come to the same message
    /// (which must encode back to bytes that decode the same) or the same <see cref="ProtocolException"/>. True if
    /// it was a message; <paramref name="encoded"/> is the message encoded again, in hex.
    /// </summary>
    private static bool DecodeBody(byte[] body, out string? encoded)
    {
        string? fromSpan = ReadBody(() => MessageSerializer.Read(body.AsSpan(), s_wire), out string? spanError);
        ReadOnlySequence<byte> segmented = Segmented(body, [body.Length / 3, 2 * body.Length / 3]);
        string? fromSegments = ReadBody(() => MessageSerializer.Read(segmented, s_wire), out string? segmentsError);
        Assert.Equal(fromSpan, fromSegments);
        Assert.Equal(spanError, segmentsError);
        encoded = fromSpan;
        return fromSpan is not null;
    }

    private static string? ReadBody(Func<IMessage> read, out string? error)
    {
        try
        {
            error = null;
            return Encoded(read());
        }
        catch (ProtocolException ex)
        {
            Assert.False(string.IsNullOrWhiteSpace(ex.Message));
            error = ex.Message;
            return null;
        }
    }

    /// <summary>A decoded message encoded again, in hex; what it encodes to must decode to the same.</summary>
    private static string Encoded(IMessage message)
    {
        byte[] again = MessageSerializer.ToBytes(message);
        Assert.Equal(again, MessageSerializer.ToBytes(MessageSerializer.Read(again, s_wire)));
        return Convert.ToHexString(again);
    }

    /// <summary>Decodes a stream as a plain socket's receive loop does: frames and bodies from one span.</summary>
    private static StreamOutcome DecodeStreamFromSpan(byte[] stream)
    {
        var messages = new List<string>();
        int consumed = 0;
        try
        {
            while (FrameReader.TryReadFrame(stream.AsSpan(consumed), MaxFrameSize, out int bodyLength))
            {
                Assert.InRange(bodyLength, 1, MaxFrameSize);
                messages.Add(Encoded(MessageSerializer.Read(stream.AsSpan(consumed + FrameReader.HeaderSize, bodyLength), s_wire)));
                consumed += FrameReader.HeaderSize + bodyLength;
            }

            return new StreamOutcome(messages, null, stream.Length - consumed);
        }
        catch (ProtocolException ex)
        {
            return new StreamOutcome(messages, ex.Message, -1);
        }
    }

    /// <summary>Decodes a stream as a TLS connection's receive loop does: frames and bodies from a sequence of segments.</summary>
    private static StreamOutcome DecodeStreamFromSegments(byte[] stream, int[] cuts)
    {
        var messages = new List<string>();
        ReadOnlySequence<byte> buffer = Segmented(stream, cuts);
        try
        {
            while (true)
            {
                long before = buffer.Length;
                if (!FrameReader.TryReadFrame(ref buffer, MaxFrameSize, out ReadOnlySequence<byte> body))
                {
                    Assert.Equal(before, buffer.Length);
                    return new StreamOutcome(messages, null, buffer.Length);
                }

                Assert.InRange(body.Length, 1, MaxFrameSize);
                Assert.Equal(before - FrameReader.HeaderSize - body.Length, buffer.Length);
                messages.Add(Encoded(MessageSerializer.Read(body, s_wire)));
            }
        }
        catch (ProtocolException ex)
        {
            return new StreamOutcome(messages, ex.Message, -1);
        }
    }

    /// <summary>
    /// Checks <paramref name="property"/> for <paramref name="cases"/> inputs from a fixed seed, or, with
    /// <c>WEVIS_FUZZ_SECONDS</c> set, for that many seconds from random seeds on every core. Each input must finish
    /// without an exception other than <see cref="ProtocolException"/> (which the property handles) and without
    /// allocating more than <see cref="AllocationAllowance"/>; the whole run must finish in bounded time. Returns
    /// how many inputs the property reported as decoded, and how many inputs were tried.
    /// </summary>
    private (int Decoded, int Total) Run<T>(Gen<T> gen, Func<T, bool> property, Func<T, int> size, int cases, Func<T, string> print, ulong seed = 20261125)
    {
        int decoded = 0;
        int total = 0;
        long largestAllocation = 0;
        long slowestTicks = 0;

        void Case(T input)
        {
            long start = Stopwatch.GetTimestamp();
            long before = GC.GetAllocatedBytesForCurrentThread();
            bool ok = property(input);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            long elapsed = Stopwatch.GetTimestamp() - start;
            int length = size(input);
            if (allocated > AllocationAllowance(length))
            {
                throw new Xunit.Sdk.XunitException($"Decoding allocated {allocated:N0} bytes for an input of about {length} bytes.");
            }

            if (ok)
            {
                Interlocked.Increment(ref decoded);
            }

            Interlocked.Increment(ref total);

            InterlockedMax(ref largestAllocation, allocated);
            InterlockedMax(ref slowestTicks, elapsed);
        }

        void Body(T input) => Case(input);

        int seconds = int.TryParse(Environment.GetEnvironmentVariable(LongModeVariable), out int s) && s > 0 ? s : 0;
        Task run = Task.Factory.StartNew(
            () =>
            {
                if (seconds > 0)
                {
                    gen.Sample(Body, writeLine: output.WriteLine, time: seconds, print: print);
                    return;
                }

                var pcg = new PCG(1, seed);
                for (int i = 0; i < cases; i++)
                {
                    T input = gen.Generate(pcg, null, out _);
                    try
                    {
                        Body(input);
                    }
                    catch (Exception ex)
                    {
                        throw new Xunit.Sdk.XunitException($"Case {i} (seed {seed}) failed for input {print(input)}: {ex.GetType().Name}: {ex.Message}", ex);
                    }
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        // A decoder stuck in a loop would hang here; fail instead (generously bounded for a busy 2-core machine).
        if (!run.Wait(TimeSpan.FromSeconds(seconds + 60)))
        {
            throw new Xunit.Sdk.XunitException("The fuzz run did not finish: some input made the decoder hang.");
        }

        run.GetAwaiter().GetResult();
        output.WriteLine($"{(seconds > 0 ? $"{seconds} s of random cases" : $"{cases} cases from seed {seed}")}: {decoded} decoded; "
            + $"largest allocation for one input {largestAllocation:N0} bytes; slowest input {Stopwatch.GetElapsedTime(0, slowestTicks).TotalMilliseconds:0.###} ms");
        return (decoded, total);
    }

    private static void InterlockedMax(ref long target, long value)
    {
        long current = Volatile.Read(ref target);
        while (value > current && Interlocked.CompareExchange(ref target, value, current) != current)
        {
            current = Volatile.Read(ref target);
        }
    }

    /// <summary>The bytes as a sequence of several segments, split at the given points, as a socket might deliver them.</summary>
    internal static ReadOnlySequence<byte> Segmented(byte[] bytes, int[] cuts)
    {
        int[] points = [.. cuts.Select(c => bytes.Length == 0 ? 0 : c % bytes.Length).Where(p => p > 0).Distinct().Order()];
        if (points.Length == 0)
        {
            return new ReadOnlySequence<byte>(bytes);
        }

        var first = new Segment(bytes.AsMemory(0, points[0]), 0);
        Segment last = first;
        for (int i = 0; i < points.Length; i++)
        {
            int end = i + 1 < points.Length ? points[i + 1] : bytes.Length;
            last = last.Append(bytes.AsMemory(points[i], end - points[i]));
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
