using System.Text.Json;

namespace Wevis;

/// <summary>
/// A room whose <see cref="State"/> outlives the room's instance: saved with <see cref="SaveStateAsync"/> to the
/// server's <see cref="IRoomStateStore"/>, and read back before <see cref="Room.OnCreated"/> when a room of the same id
/// is made again (on a cluster, when the room is restarted on another node after its node died). The state is
/// forgotten when the room is disposed (closed, or emptied), not when the server stops.
/// </summary>
/// <typeparam name="TState">The state: a class that System.Text.Json can write and read (public properties).</typeparam>
/// <remarks>Without a store (<see cref="ServerOptions.RoomStateStore"/> unset), the state lives as long as the room, and saving does nothing.</remarks>
/// <example>
/// <code>
/// sealed class ScoreRoom : PersistentRoom&lt;Scores&gt;
/// {
///     protected override async ValueTask HandleAsync(Connection connection, IMessage message)
///     {
///         State.Points[connection.User.Name] = State.Points.GetValueOrDefault(connection.User.Name) + 1;
///         await SaveStateAsync(); // acknowledged only once saved
///         connection.Send(new Scored(State.Points[connection.User.Name]));
///     }
/// }
/// </code>
/// </example>
public abstract class PersistentRoom<TState> : Room
    where TState : class, new()
{
    /// <summary>The room's state: new, or as last saved by a room of the same id (<see cref="IsRestored"/>).</summary>
    public TState State { get; protected set; } = new();

    /// <summary>Whether <see cref="State"/> was read back from the store when the room was made.</summary>
    public bool IsRestored { get; private set; }

    /// <summary>
    /// Writes <see cref="State"/> to the store; call it from the room's code, and reply after it completes. Once the
    /// room is being disposed (closed, or emptied; not at the server's stop) it does nothing: its state is forgotten.
    /// </summary>
    protected async ValueTask SaveStateAsync()
    {
        if (Directory.StateStore is { } store && !IsForgettingState)
        {
            await store.WriteAsync(Id, JsonSerializer.SerializeToUtf8Bytes(State)).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    internal override bool KeepsState => true;

    /// <inheritdoc/>
    internal override async ValueTask LoadStateAsync()
    {
        // A room of this id disposed just before may not have forgotten its state yet: this room forgets it instead
        // (and starts anew), or waits for the forgetting under way.
        (Task clearing, bool takenOver) = Directory.ForgottenStates.Claim(Id);
        if (takenOver)
        {
            await ClearStateAsync().ConfigureAwait(false);
            return;
        }

        await clearing.ConfigureAwait(false);
        if (Directory.StateStore is { } store && await store.ReadAsync(Id).ConfigureAwait(false) is { } saved)
        {
            State = JsonSerializer.Deserialize<TState>(saved) ?? new TState();
            IsRestored = true;
        }
    }

    /// <inheritdoc/>
    internal override async ValueTask ClearStateAsync()
    {
        if (Directory.StateStore is { } store)
        {
            await store.ClearAsync(Id).ConfigureAwait(false);
        }
    }
}
