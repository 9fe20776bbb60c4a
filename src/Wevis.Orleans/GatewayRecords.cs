using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Wevis.Orleans;

/// <summary>
/// The bytes a room sends a gateway: a run of records, each a kind byte and the user's session number, then a frame
/// for the user (as the client will receive it), a close with its reason, or a move room code made. Frames stay
/// bytes end to end, so user message types need no Orleans serializers; closes and moves travel in the same run so
/// they keep their place after the frames sent before them.
/// </summary>
internal static class GatewayRecords
{
    public const byte Frame = 0;
    public const byte Close = 1;
    public const byte Move = 2;

    public static void WriteFrame(IBufferWriter<byte> writer, long session, ReadOnlySpan<byte> frame)
    {
        Span<byte> head = writer.GetSpan(13);
        head[0] = Frame;
        BinaryPrimitives.WriteInt64LittleEndian(head[1..], session);
        BinaryPrimitives.WriteInt32LittleEndian(head[9..], frame.Length);
        writer.Advance(13);
        writer.Write(frame);
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
    public static byte Read(ref ReadOnlySpan<byte> records, out long session, out ReadOnlySpan<byte> frame, out string? reason, out ClusterMove? move)
    {
        byte kind = records[0];
        session = BinaryPrimitives.ReadInt64LittleEndian(records[1..]);
        records = records[9..];
        frame = default;
        reason = null;
        move = null;
        switch (kind)
        {
            case Frame:
                int length = BinaryPrimitives.ReadInt32LittleEndian(records);
                frame = records.Slice(4, length);
                records = records[(4 + length)..];
                break;
            case Close:
                reason = ReadString(ref records);
                break;
            case Move:
                move = new ClusterMove(ReadString(ref records), ReadString(ref records), ReadString(ref records), ReadString(ref records));
                break;
            default:
                throw new InvalidOperationException($"Unknown gateway record kind {kind}.");
        }

        return kind;
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

    private static string ReadString(ref ReadOnlySpan<byte> records)
    {
        int length = BinaryPrimitives.ReadInt32LittleEndian(records);
        string text = Encoding.UTF8.GetString(records.Slice(4, length));
        records = records[(4 + length)..];
        return text;
    }
}
