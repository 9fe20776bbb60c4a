namespace Wevis.Rooms;

/// <summary>
/// Per room id, the disposals of persistent rooms whose saved state is to be forgotten. A room's id is free as soon as
/// its disposal begins, but its state is forgotten only at the end of it (after its disposed hook, which waits for the
/// room's turn); a room made again under the id meanwhile must neither read the old state nor have what it saves
/// forgotten by the old room. So the new room takes the forgetting over if the old room has not begun it (it clears
/// the state itself and the old room then leaves it alone), or waits for it if it has begun. It never waits for the old
/// room's turn: room code that closes its own room and awaits making it again holds that turn.
/// </summary>
internal sealed class ForgottenStates
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Forgetting> _byId = new(StringComparer.Ordinal);

    /// <summary>A disposed room's state is to be forgotten; call before its id is free.</summary>
    public Forgetting Begin(string id)
    {
        var forgetting = new Forgetting(id);
        lock (_lock)
        {
            _byId[id] = forgetting;
        }

        return forgetting;
    }

    /// <summary>
    /// The disposed room forgets its state with <paramref name="clear"/>, unless a room made again under its id has
    /// taken that over; a room made again while the clear runs waits for it.
    /// </summary>
    public async ValueTask ForgetAsync(Forgetting forgetting, Func<ValueTask> clear)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (forgetting.TakenOver)
            {
                return;
            }

            forgetting.Clearing = done.Task;
        }

        try
        {
            await clear().ConfigureAwait(false);
        }
        finally
        {
            lock (_lock)
            {
                if (_byId.TryGetValue(forgetting.Id, out Forgetting? current) && ReferenceEquals(current, forgetting))
                {
                    _byId.Remove(forgetting.Id);
                }
            }

            done.SetResult();
        }
    }

    /// <summary>
    /// For a room made under <paramref name="id"/>, before it reads its state: a clear under way to wait for (or a
    /// completed task), and whether it took the forgetting over from a disposed room that had not begun it (it then
    /// clears the state itself, and does not read it).
    /// </summary>
    public (Task Clearing, bool TakenOver) Claim(string id)
    {
        lock (_lock)
        {
            if (!_byId.TryGetValue(id, out Forgetting? forgetting))
            {
                return (Task.CompletedTask, false);
            }

            if (forgetting.Clearing is { } clearing)
            {
                return (clearing, false);
            }

            forgetting.TakenOver = true;
            _byId.Remove(id);
            return (Task.CompletedTask, true);
        }
    }

    /// <summary>One disposal's forgetting of its room's state; its fields change under the owner's lock.</summary>
    internal sealed class Forgetting(string id)
    {
        public string Id { get; } = id;

        public Task? Clearing { get; set; }

        public bool TakenOver { get; set; }
    }
}
