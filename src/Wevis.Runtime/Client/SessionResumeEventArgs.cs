namespace Wevis;

/// <summary>
/// What <see cref="Client.Dropped"/>, <see cref="Client.Resumed"/> and <see cref="Client.GaveUp"/> tell about a
/// resumable session (<see cref="ClientOptions.ResumeSessions"/>).
/// </summary>
/// <param name="reason">Why the connection was lost (dropped), or why resuming failed (gave up); empty when resumed.</param>
/// <param name="attempts">How many reconnect attempts were made (0 when dropped).</param>
public sealed class SessionResumeEventArgs(string reason, int attempts) : EventArgs
{
    /// <summary>Why the connection was lost (dropped), or why resuming failed (gave up); empty when resumed.</summary>
    public string Reason { get; } = reason;

    /// <summary>How many reconnect attempts were made (0 when dropped).</summary>
    public int Attempts { get; } = attempts;
}
