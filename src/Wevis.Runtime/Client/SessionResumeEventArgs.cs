namespace Wevis;

/// <summary>
/// What <see cref="Client.Dropped"/>, <see cref="Client.Resumed"/> and <see cref="Client.GaveUp"/> tell about a
/// resumable session (<see cref="ClientOptions.ResumeSessions"/>).
/// </summary>
/// <param name="reason">Why the connection was lost (dropped), or why resuming failed (gave up); empty when resumed.</param>
/// <param name="attempts">How many reconnect attempts were made (0 when dropped).</param>
/// <param name="replayed">When resumed: how many of this client's messages the server had not handled, sent again now.</param>
public sealed class SessionResumeEventArgs(string reason, int attempts, long replayed = 0) : EventArgs
{
    /// <summary>When resumed: how many of this client's messages the server had not handled, sent again now (0 otherwise).</summary>
    public long Replayed { get; } = replayed;

    /// <summary>Why the connection was lost (dropped), or why resuming failed (gave up); empty when resumed.</summary>
    public string Reason { get; } = reason;

    /// <summary>How many reconnect attempts were made (0 when dropped).</summary>
    public int Attempts { get; } = attempts;
}
