using System.Buffers.Binary;
using System.Net.Sockets;

namespace Wevis.Runtime.Tests.Infrastructure;

/// <summary>Ways for a <see cref="RawPeer"/> to misbehave on the wire: raw length prefixes, dripping, dying abruptly.</summary>
internal static class RawPeerFaults
{
    /// <summary>A length prefix saying <paramref name="length"/>, followed by <paramref name="body"/> (which may be shorter or longer).</summary>
    public static byte[] Prefixed(uint length, ReadOnlySpan<byte> body = default)
    {
        byte[] frame = new byte[4 + body.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, length);
        body.CopyTo(frame.AsSpan(4));
        return frame;
    }

    /// <summary>Resets the connection (linger 0: the kernel sends RST and drops anything unsent), as a killed process would.</summary>
    public static void Kill(this RawPeer peer)
    {
        peer.Socket.LingerState = new LingerOption(true, 0);
        peer.Socket.Close();
    }

    /// <summary>Ends the sending half gracefully (FIN): the server sees the end of the stream.</summary>
    public static void EndSending(this RawPeer peer) => peer.Socket.Shutdown(SocketShutdown.Send);

    /// <summary>
    /// Sends <paramref name="bytes"/> one at a time, <paramref name="interval"/> apart, until all are sent or the
    /// server closes; returns how many bytes were sent.
    /// </summary>
    public static async Task<int> DripAsync(this RawPeer peer, byte[] bytes, TimeSpan interval)
    {
        for (int i = 0; i < bytes.Length; i++)
        {
            try
            {
                await peer.Socket.SendAsync(bytes.AsMemory(i, 1), SocketFlags.None);
            }
            catch (SocketException)
            {
                return i;
            }

            await Task.Delay(interval);
        }

        return bytes.Length;
    }
}
