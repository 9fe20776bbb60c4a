namespace Wevis.Orleans;

/// <summary>
/// A gateway as rooms reach it: a grain observer, one per gateway, to which each room sends what it has for that
/// gateway's users, in order, one call at a time (see <see cref="GatewayRecords"/> for the bytes).
/// </summary>
internal interface IGatewayObserver : IGrainObserver
{
    /// <summary>
    /// Takes records (frames for users, closes, moves) from one room, in the order the room made them: call
    /// <paramref name="number"/> of the room's outbox <paramref name="stream"/>. A number the gateway has had from that
    /// stream is dropped (the room made a call again whose answer it did not get); number 0 is not numbered.
    /// </summary>
    Task Receive(long stream, long number, byte[] records);

    /// <summary>
    /// The user's session <paramref name="session"/> is being resumed at another gateway: this one lets go of it
    /// quietly (no leave: the user stays in their room), once what it is handing the room has been handled.
    /// </summary>
    /// <remarks>
    /// Orleans runs an observer's calls one at a time, each to its end, unless they always interleave. This one waits
    /// for the user's delivery, which (for a resumable user) waits for the room's frames to reach this gateway: queued
    /// behind it, those <see cref="Receive"/> calls, and every other room's, would wait until one timed out.
    /// </remarks>
    [AlwaysInterleave]
    Task HandOver(long session);
}
