namespace Wevis.Orleans.Tests;

/// <summary>Waits for a client to be told it is in a room (its <see cref="Client.RoomChanged"/>), not by asking again and again.</summary>
internal static class ClientRoomWaits
{
    /// <summary>Completes once the client is in room <paramref name="roomId"/> (any room, if null), now or when told so.</summary>
    public static Task InRoomAsync(this Client client, string? roomId = null)
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChanged(object? sender, RoomChangedEventArgs e)
        {
            if (roomId is null || e.Room.Id == roomId)
            {
                client.RoomChanged -= OnChanged;
                entered.TrySetResult();
            }
        }

        // Subscribed before the look at the current room: a change in between is heard by one or the other.
        client.RoomChanged += OnChanged;
        if (client.Room is { } room && (roomId is null || room.Id == roomId))
        {
            client.RoomChanged -= OnChanged;
            entered.TrySetResult();
        }

        return entered.Task;
    }
}
