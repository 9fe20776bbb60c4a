using Microsoft.Extensions.Logging;
using Wevis.Rooms;

namespace Wevis.Orleans;

/// <summary>
/// Tells a room's type grain what the room's listing shows whenever it changes (a seat held or given back, a lock,
/// the capacity, closing, disposal), so the type grain lists rooms and picks one for join-or-create without asking
/// each. One report in flight at a time, each taken when it is sent, so a burst of changes costs one or two calls
/// and the last report is the room's last state.
/// </summary>
internal sealed class ListingReporter(Room room, IRoomTypeGrain typeGrain, string silo, ILogger logger, TimeProvider time)
{
    private readonly Guid _activation = Guid.NewGuid();
    private long _version;
    private int _requests;

    /// <summary>What the room's listing shows now.</summary>
    public RoomListing Now()
    {
        // The version is read before the state, so a listing is never older than its version says.
        long version = Interlocked.Increment(ref _version);
        RoomMembers members = room.Members;
        RoomState state = members.State;
        return new RoomListing(
            new ClusterRoomInfo(room.Id, room.Type, members.Occupied, members.Capacity, members.IsLocked),
            IsClosed: state != RoomState.Open,
            IsDisposed: state == RoomState.Disposed,
            silo,
            _activation,
            version);
    }

    /// <summary>Reports the listing and waits for the type grain to have it (when the room is made, so it is found at once).</summary>
    public Task ReportNowAsync() => RoomCalls.CallAsync(async () =>
    {
        await typeGrain.Report(Now());
        return true;
    }, time);

    /// <summary>The listing changed: a report follows, after the one in flight.</summary>
    public void Changed()
    {
        if (Interlocked.Increment(ref _requests) == 1)
        {
            _ = ReportAsync();
        }
    }

    private async Task ReportAsync()
    {
        int taken;
        do
        {
            taken = Volatile.Read(ref _requests);
            RoomListing listing = Now();
            try
            {
                await RoomCalls.CallAsync(async () =>
                {
                    await typeGrain.Report(listing).ConfigureAwait(false);
                    return true;
                }, time).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // The next change reports again; a room that changes no more is corrected when a silo dies.
                OrleansLog.ListingNotReported(logger, ex, room.Id);
            }

            if (listing.IsDisposed)
            {
                return;
            }
        }
        while (Interlocked.Add(ref _requests, -taken) != 0);
    }
}
