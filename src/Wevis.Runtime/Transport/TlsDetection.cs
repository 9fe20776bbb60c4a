using System.Net.Sockets;

namespace Wevis.Transport;

/// <summary>
/// Tells a TLS peer from a plain Wevis one by their first bytes, so that a client and server that disagree about
/// TLS find out at once, and say so, instead of both waiting for the other until the login times out.
/// </summary>
/// <remarks>
/// It works because the client speaks first (docs/protocol.md): a plain client's first frame starts with the high
/// byte of its length, 0x00 for any frame under 16 MiB, while a TLS client's first record is a handshake record,
/// whose first byte is 0x16 and whose next two are the record's version, 0x03 0x00 to 0x03 0x04. Read as a frame
/// length, those four bytes are 369 MB or more, far over any login frame limit. A plain server's first frame, its
/// welcome, starts 0x00 0x00 and then a MessagePack array, which no TLS record does.
/// </remarks>
internal static class TlsDetection
{
    /// <summary>The first byte of a TLS handshake record (the content type "handshake").</summary>
    public const byte HandshakeRecord = 0x16;

    /// <summary>Whether the four bytes read as a frame length are the start of a TLS record header (type 0x16, version 3.0 to 3.4).</summary>
    public static bool IsTlsRecordHeader(uint frameLength) => (frameLength >> 8) - 0x16_03_00u <= 4;

    /// <summary>
    /// Whether <paramref name="firstBytes"/> (what a server sent first) are the start of a plain Wevis frame: a length
    /// under 64 KiB, then a MessagePack array.
    /// </summary>
    public static bool LooksLikeWevisFrame(ReadOnlySpan<byte> firstBytes) =>
        firstBytes.Length >= 5
        && firstBytes[0] == 0
        && firstBytes[1] == 0
        && (firstBytes[4] is >= 0x90 and <= 0x9f or 0xdc or 0xdd);

    /// <summary>
    /// Waits for the client's first byte without taking it off the socket, and returns it; null if the client closed
    /// the connection without sending anything.
    /// </summary>
    public static async ValueTask<byte?> PeekFirstByteAsync(Socket socket, CancellationToken cancellationToken)
    {
        byte[] first = new byte[1];
        int read = await socket.ReceiveAsync(first, SocketFlags.Peek, cancellationToken).ConfigureAwait(false);
        return read == 0 ? null : first[0];
    }
}
