namespace Wevis.Orleans;

/// <summary>
/// The seats a cluster room holds for users on their way in (a join, a join-or-create or a move decided by a gateway
/// or by room code elsewhere), oldest first, each with the time by which it must be used or given back.
/// </summary>
/// <remarks>
/// On one server a seat held for a user is used or given back by the same code, in one process. On the cluster the
/// holder is another node: a gateway that dies, or a call that fails, between holding the seat and entering the user
/// would keep the seat taken for good (the room would count a user who never comes, refuse others at its capacity, and
/// never be disposed when empty). So a seat not used in time is given back by the room, and a seat given back twice
/// (a late release after that) counts once. Seats carry no owner: any entry with a held seat, or any release, takes
/// the oldest; the count stays right, and a seat is at most one timeout late in going back. Not thread-safe: the
/// room's grain calls it under its lock.
/// </remarks>
internal sealed class SeatReservations(TimeProvider time, TimeSpan timeout)
{
    private readonly Queue<long> _deadlines = new();

    /// <summary>How many seats are held and not yet used or given back.</summary>
    public int Count => _deadlines.Count;

    /// <summary>A seat was held now: it must be used within the timeout.</summary>
    public void Add() => _deadlines.Enqueue(time.GetTimestamp() + (long)(timeout.TotalSeconds * time.TimestampFrequency));

    /// <summary>Takes the oldest held seat (a user entered with it, or it is given back); false if none is held (it went back already).</summary>
    public bool TryTake() => _deadlines.TryDequeue(out _);

    /// <summary>Takes every held seat whose time is up; how many.</summary>
    public int TakeExpired()
    {
        long now = time.GetTimestamp();
        int expired = 0;
        while (_deadlines.TryPeek(out long deadline) && deadline <= now)
        {
            _deadlines.Dequeue();
            expired++;
        }

        return expired;
    }

    /// <summary>How long until the oldest held seat's time is up (zero if it is); null if none is held.</summary>
    public TimeSpan? UntilNextExpiry() => _deadlines.TryPeek(out long deadline)
        ? TimeSpan.FromSeconds(Math.Max(0, deadline - time.GetTimestamp()) / (double)time.TimestampFrequency)
        : null;
}
