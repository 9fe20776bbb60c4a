namespace Wevis.Orleans;

/// <summary>
/// The seats a cluster room holds for users on their way in (a join, a join-or-create or a move decided by a gateway
/// or by room code elsewhere), oldest first, each with who it is for and the time by which it must be used or given back.
/// </summary>
/// <remarks>
/// On one server a seat held for a user is used or given back by the same code, in one process. On the cluster the
/// holder is another node: a gateway that dies, or a call that fails, between holding the seat and entering the user
/// would keep the seat taken for good (the room would count a user who never comes, refuse others at its capacity, and
/// never be disposed when empty). So a seat not used in time is given back by the room, and a seat given back twice
/// (a late release after that) counts once. Each seat is for a holder (<see cref="ClusterUser.SeatHolder"/>; null for
/// code that holds one and gives it back at once): an entry or a release takes only a seat held for the same holder,
/// so a user who comes late cannot take the seat of one who is on time. Not thread-safe: the room's grain calls it
/// under its lock.
/// </remarks>
internal sealed class SeatReservations(TimeProvider time, TimeSpan timeout)
{
    /// <summary>The held seats, oldest (so soonest due) first.</summary>
    private readonly List<(string? Holder, long Deadline)> _seats = [];

    /// <summary>How many seats are held and not yet used or given back.</summary>
    public int Count => _seats.Count;

    /// <summary>A seat was held now for <paramref name="holder"/>: it must be used within the timeout.</summary>
    public void Add(string? holder) => _seats.Add((holder, time.GetTimestamp() + (long)(timeout.TotalSeconds * time.TimestampFrequency)));

    /// <summary>
    /// Takes the oldest seat held for <paramref name="holder"/> (they entered with it, or it is given back); false if
    /// none is (it went back already).
    /// </summary>
    public bool TryTake(string? holder)
    {
        int index = _seats.FindIndex(seat => string.Equals(seat.Holder, holder, StringComparison.Ordinal));
        if (index < 0)
        {
            return false;
        }

        _seats.RemoveAt(index);
        return true;
    }

    /// <summary>Takes every held seat whose time is up; how many.</summary>
    public int TakeExpired()
    {
        long now = time.GetTimestamp();
        int expired = 0;
        while (expired < _seats.Count && _seats[expired].Deadline <= now)
        {
            expired++;
        }

        _seats.RemoveRange(0, expired);
        return expired;
    }

    /// <summary>How long until the oldest held seat's time is up (zero if it is); null if none is held.</summary>
    public TimeSpan? UntilNextExpiry() => _seats.Count > 0
        ? TimeSpan.FromSeconds(Math.Max(0, _seats[0].Deadline - time.GetTimestamp()) / (double)time.TimestampFrequency)
        : null;
}
