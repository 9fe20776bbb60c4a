using System.Collections.Concurrent;

namespace Wevis;

/// <summary>
/// Keeps rooms' state in this process's memory: it survives a room's restart (and, shared by the silos of a test
/// cluster in one process, a silo's death), not the process's.
/// </summary>
public sealed class MemoryRoomStateStore : IRoomStateStore
{
    private readonly ConcurrentDictionary<string, byte[]> _states = new(StringComparer.Ordinal);

    /// <summary>How many rooms have state kept here.</summary>
    public int Count => _states.Count;

    /// <inheritdoc/>
    public ValueTask<byte[]?> ReadAsync(string roomId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(roomId);
        return ValueTask.FromResult(_states.TryGetValue(roomId, out byte[]? state) ? state : null);
    }

    /// <inheritdoc/>
    public ValueTask WriteAsync(string roomId, ReadOnlyMemory<byte> state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(roomId);
        _states[roomId] = state.ToArray();
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask ClearAsync(string roomId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(roomId);
        _states.TryRemove(roomId, out _);
        return ValueTask.CompletedTask;
    }
}
