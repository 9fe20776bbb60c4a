using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Wevis.Orleans;

/// <summary>
/// The bytes a room sends a gateway: a run of records, each a kind byte and the user's session number, then a frame
/// for the user (as the client will receive it), the same frame for more users, a close with its reason, or a move
/// room code made. Frames stay bytes end to end, so user message types need no Orleans serializers; closes and moves
/// travel in the same run so they keep their place after the frames sent before them.
/// </summary>
/// <remarks>
/// <para>Layouts (little-endian): a frame is <c>0, session (8), length (4), frame</c>; a repeat is a frame record whose
/// kind byte says <c>3</c>, followed by <c>count (4), count more sessions (8 each)</c>, so a broadcast to many users of
/// one gateway carries its frame once (<see cref="EndRepeat"/> turns a frame record into a repeat after the fact);
/// a close is <c>1, session, reason</c>; a move <c>2, session, from, target, target type, reason</c>; strings are
/// <c>length (4), UTF-8</c>.</para>
/// <para>Both ends are this code, but the reader still checks every length and count against the bytes that are
/// there before it slices or allocates, and throws <see cref="InvalidDataException"/> on anything that does not fit.</para>
/// </remarks>
internal static class GatewayRecords
{
    public const byte Frame = 0;
    public const byte Close = 1;
    public const byte Move = 2;
    public const byte Repeat = 3;

    /// <summary>The most sessions one repeat record lists after its first: a run that reaches it ends, and the next starts a new record.</summary>
    public const int MaxRepeat = 65_536;

    /// <summary>The bytes of a frame record before its frame.</summary>
    public const int FrameHeadSize = 13;

    public static void WriteFrame(IBufferWriter<byte> writer, long session, ReadOnlySpan<byte> frame)
    {
        Span<byte> head = writer.GetSpan(FrameHeadSize);
        head[0] = Frame;
        BinaryPrimitives.WriteInt64LittleEndian(head[1..], session);
        BinaryPrimitives.WriteInt32LittleEndian(head[9..], frame.Length);
        writer.Advance(FrameHeadSize);
        writer.Write(frame);
    }

    /// <summary>
    /// Turns the frame record at <paramref name="recordStart"/>, the last one <paramref name="writer"/> holds, into a
    /// repeat of its frame for <paramref name="more"/> sessions besides its own.
    /// </summary>
    public static void EndRepeat(ArrayBufferWriter<byte> writer, int recordStart, ReadOnlySpan<long> more)
    {
        MemoryMarshal.AsMemory(writer.WrittenMemory).Span[recordStart] = Repeat;
        Span<byte> tail = writer.GetSpan(4 + (8 * more.Length));
        BinaryPrimitives.WriteInt32LittleEndian(tail, more.Length);
        for (int i = 0; i < more.Length; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(tail[(4 + (8 * i))..], more[i]);
        }

        writer.Advance(4 + (8 * more.Length));
    }

    public static void WriteClose(IBufferWriter<byte> writer, long session, string reason)
    {
        WriteHead(writer, Close, session);
        WriteString(writer, reason);
    }

    public static void WriteMove(IBufferWriter<byte> writer, long session, ClusterMove move)
    {
        WriteHead(writer, Move, session);
        WriteString(writer, move.From);
        WriteString(writer, move.Target);
        WriteString(writer, move.TargetType);
        WriteString(writer, move.Reason);
    }

    /// <summary>Reads the record at the front of <paramref name="records"/> and moves past it.</summary>
    /// <exception cref="InvalidDataException">The record is cut off, or its kind, a length or a count is out of range.</exception>
    public static GatewayRecord Read(ref ReadOnlySpan<byte> records)
    {
        if (records.Length < 9)
        {
            throw Malformed("a record is cut off");
        }

        byte kind = records[0];
        long session = BinaryPrimitives.ReadInt64LittleEndian(records[1..]);
        records = records[9..];
        switch (kind)
        {
            case Frame:
                return new GatewayRecord(kind, session, ReadBytes(ref records), default, null, null);
            case Repeat:
                ReadOnlySpan<byte> frame = ReadBytes(ref records);
                int count = ReadLength(records);
                if (count > MaxRepeat || count > (records.Length - 4) / 8)
                {
                    throw Malformed($"a repeat lists {count} sessions");
                }

                ReadOnlySpan<byte> more = records.Slice(4, 8 * count);
                records = records[(4 + (8 * count))..];
                return new GatewayRecord(kind, session, frame, more, null, null);
            case Close:
                return new GatewayRecord(kind, session, default, default, ReadString(ref records), null);
            case Move:
                var move = new ClusterMove(ReadString(ref records), ReadString(ref records), ReadString(ref records), ReadString(ref records));
                return new GatewayRecord(kind, session, default, default, null, move);
            default:
                throw Malformed($"unknown record kind {kind}");
        }
    }

    private static void WriteHead(IBufferWriter<byte> writer, byte kind, long session)
    {
        Span<byte> head = writer.GetSpan(9);
        head[0] = kind;
        BinaryPrimitives.WriteInt64LittleEndian(head[1..], session);
        writer.Advance(9);
    }

    private static void WriteString(IBufferWriter<byte> writer, string text)
    {
        int length = Encoding.UTF8.GetByteCount(text);
        Span<byte> span = writer.GetSpan(4 + length);
        BinaryPrimitives.WriteInt32LittleEndian(span, length);
        Encoding.UTF8.GetBytes(text, span[4..]);
        writer.Advance(4 + length);
    }

    private static string ReadString(ref ReadOnlySpan<byte> records) => Encoding.UTF8.GetString(ReadBytes(ref records));

    /// <summary>A length-prefixed run of bytes, checked against what is left.</summary>
    private static ReadOnlySpan<byte> ReadBytes(ref ReadOnlySpan<byte> records)
    {
        int length = ReadLength(records);
        if (length > records.Length - 4)
        {
            throw Malformed($"a length of {length} runs past the end");
        }

        ReadOnlySpan<byte> bytes = records.Slice(4, length);
        records = records[(4 + length)..];
        return bytes;
    }

    private static int ReadLength(ReadOnlySpan<byte> records)
    {
        if (records.Length < 4)
        {
            throw Malformed("a record is cut off");
        }

        int length = BinaryPrimitives.ReadInt32LittleEndian(records);
        return length >= 0 ? length : throw Malformed($"a negative length ({length})");
    }

    private static InvalidDataException Malformed(string what) => new($"Malformed gateway records: {what}.");
}

/// <summary>One record read by <see cref="GatewayRecords.Read"/>; its spans point into the records.</summary>
internal readonly ref struct GatewayRecord(byte kind, long session, ReadOnlySpan<byte> frame, ReadOnlySpan<byte> more, string? reason, ClusterMove? move)
{
    /// <summary>One of <see cref="GatewayRecords.Frame"/>, <see cref="GatewayRecords.Repeat"/>, <see cref="GatewayRecords.Close"/>, <see cref="GatewayRecords.Move"/>.</summary>
    public byte Kind { get; } = kind;

    /// <summary>The session the record is for (a repeat's first).</summary>
    public long Session { get; } = session;

    /// <summary>The frame of a frame or repeat record.</summary>
    public ReadOnlySpan<byte> Frame { get; } = frame;

    /// <summary>How many sessions a repeat lists besides <see cref="Session"/>.</summary>
    public int MoreCount => _more.Length / 8;

    /// <summary>The reason of a close.</summary>
    public string? Reason { get; } = reason;

    /// <summary>The move of a move record.</summary>
    public ClusterMove? Move { get; } = move;

    private readonly ReadOnlySpan<byte> _more = more;

    /// <summary>The <paramref name="index"/>th of a repeat's further sessions.</summary>
    public long More(int index) => BinaryPrimitives.ReadInt64LittleEndian(_more.Slice(8 * index, 8));
}
