using System.Buffers.Binary;

namespace Wevis.LoadTest.Servers;

/// <summary>
/// The raw floor's wire format: a 4-byte big-endian length, then 12 bytes of body, 16 bytes a frame each way.
/// A request body is zeros; a reply body holds the hour and minute, as Wevis's <c>ItIs</c> does. A shout (scenario f)
/// holds its number, then <see cref="ShoutMark"/>, then zeros; the server repeats it unchanged to every connection.
/// </summary>
internal static class RawFrames
{
    public const int FrameSize = 16;
    public const int HeaderSize = 4;
    public const int BodySize = FrameSize - HeaderSize;

    /// <summary>The second word of a shout's body: what tells it from a request.</summary>
    public const int ShoutMark = 0x54554F48;

    public static void WriteShout(Span<byte> destination, int seq)
    {
        BinaryPrimitives.WriteInt32BigEndian(destination, BodySize);
        BinaryPrimitives.WriteInt32LittleEndian(destination[4..], seq);
        BinaryPrimitives.WriteInt32LittleEndian(destination[8..], ShoutMark);
        BinaryPrimitives.WriteInt32LittleEndian(destination[12..], 0);
    }

    /// <summary>Whether the whole frame at the start of <paramref name="frame"/> is a shout.</summary>
    public static bool IsShout(ReadOnlySpan<byte> frame) => BinaryPrimitives.ReadInt32LittleEndian(frame[8..]) == ShoutMark;

    /// <summary>A shout's number.</summary>
    public static int ShoutNumber(ReadOnlySpan<byte> frame) => BinaryPrimitives.ReadInt32LittleEndian(frame[4..]);

    public static void WriteRequest(Span<byte> destination)
    {
        BinaryPrimitives.WriteInt32BigEndian(destination, BodySize);
        destination.Slice(HeaderSize, BodySize).Clear();
    }

    public static void WriteReply(Span<byte> destination, int hours, int minutes)
    {
        BinaryPrimitives.WriteInt32BigEndian(destination, BodySize);
        BinaryPrimitives.WriteInt32LittleEndian(destination[4..], hours);
        BinaryPrimitives.WriteInt32LittleEndian(destination[8..], minutes);
        BinaryPrimitives.WriteInt32LittleEndian(destination[12..], 0);
    }

    /// <summary>The number of whole frames at the start of <paramref name="data"/>, each checked to be 16 bytes.</summary>
    public static int CountWholeFrames(ReadOnlySpan<byte> data)
    {
        int frames = 0;
        while (data.Length >= FrameSize)
        {
            if (BinaryPrimitives.ReadInt32BigEndian(data) != BodySize)
            {
                throw new InvalidDataException("A raw frame's length is not 12.");
            }

            data = data[FrameSize..];
            frames++;
        }

        return frames;
    }
}
