namespace Wevis.Transport;

/// <summary>Why a connection's receive loop ended.</summary>
/// <param name="Reason">A sentence for the log and for the peer.</param>
/// <param name="IsProtocolViolation">The peer sent something that is not valid Wevis.</param>
/// <param name="EndedMidFrame">The violation is the stream ending inside a frame (a cut connection, on a resumable session).</param>
internal readonly record struct ReceiveOutcome(string Reason, bool IsProtocolViolation = false, bool EndedMidFrame = false);
