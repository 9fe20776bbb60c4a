namespace Wevis.Transport;

/// <summary>
/// A stream with no socket under it that can still tell its peer "nothing more comes from this side" while it goes
/// on reading, as shutting a socket's sending side (a TCP FIN) does: the in-memory connections of Wevis.Testing.
/// A graceful close needs it: the peer reads to the end of the stream, then closes its own side.
/// </summary>
internal interface IHalfClosableStream
{
    /// <summary>Ends this side's writing; the peer's reads then see the end of the stream.</summary>
    void ShutdownSend();
}
