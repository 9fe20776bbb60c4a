namespace Wevis.Transport;

/// <summary>The sizes one connection enforces, taken from the server's or client's options.</summary>
/// <param name="MaxFrameSize">The largest message body accepted or sent.</param>
/// <param name="MaxQueuedBytes">The most bytes queued for sending before the connection is dropped.</param>
internal sealed record ConnectionLimits(int MaxFrameSize, long MaxQueuedBytes);
