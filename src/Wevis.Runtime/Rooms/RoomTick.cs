namespace Wevis;

/// <summary>One tick of a room that ticks (<see cref="Room.StartTicking"/>).</summary>
/// <param name="Number">The tick's number: 1 for the first after ticking started.</param>
/// <param name="Interval">The time between ticks asked for.</param>
/// <param name="Elapsed">The time since the previous tick ran (or since ticking started), on the server's clock.</param>
/// <param name="Skipped">How many ticks were skipped since the previous one because it was still running.</param>
public readonly record struct RoomTick(long Number, TimeSpan Interval, TimeSpan Elapsed, long Skipped)
{
    /// <summary>
    /// With <c>HandleMessagesOnTick</c> set, the messages that arrived since the previous tick, in arrival order;
    /// otherwise empty. Valid only during the tick.
    /// </summary>
    public IReadOnlyList<ReceivedMessage> Messages { get; init; } = [];
}

/// <summary>A message and the connection it came on, as a tick sees it.</summary>
/// <param name="Connection">The sender's connection.</param>
/// <param name="Message">The message.</param>
public readonly record struct ReceivedMessage(Connection Connection, IMessage Message);
