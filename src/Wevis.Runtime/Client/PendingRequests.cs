namespace Wevis;

/// <summary>
/// The client's requests in flight, by id. Each request gets an id no other request in flight has; the answer that
/// carries it back takes the request out. An answer whose id is not here came too late (the request timed out or was
/// cancelled) and is dropped. When the connection closes, every request still here fails.
/// </summary>
internal sealed class PendingRequests
{
    private readonly Lock _lock = new();
    private readonly Dictionary<int, PendingRequest> _pending = [];
    private int _lastId;
    private string? _closedReason;

    /// <summary>How many requests are in flight.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>Gives <paramref name="request"/> an id and adds it.</summary>
    /// <exception cref="ConnectionClosedException">The connection has closed.</exception>
    public void Add(PendingRequest request)
    {
        lock (_lock)
        {
            if (_closedReason is not null)
            {
                throw new ConnectionClosedException(_closedReason);
            }

            int id;
            do
            {
                id = unchecked(++_lastId);
            }
            while (_pending.ContainsKey(id));

            request.RequestId = id;
            _pending.Add(id, request);
        }
    }

    /// <summary>Takes out the request with <paramref name="id"/>, to answer it; null if none is waiting.</summary>
    public PendingRequest? Take(int id)
    {
        lock (_lock)
        {
            return _pending.Remove(id, out PendingRequest? request) ? request : null;
        }
    }

    /// <summary>Takes out <paramref name="request"/>, if it is still here.</summary>
    public void Remove(PendingRequest request)
    {
        lock (_lock)
        {
            if (_pending.TryGetValue(request.RequestId, out PendingRequest? found) && ReferenceEquals(found, request))
            {
                _pending.Remove(request.RequestId);
            }
        }
    }

    /// <summary>Fails every request in flight, and every one added later, with <see cref="ConnectionClosedException"/>.</summary>
    public void CloseAll(string reason)
    {
        PendingRequest[] all;
        lock (_lock)
        {
            _closedReason ??= reason;
            all = [.. _pending.Values];
            _pending.Clear();
        }

        foreach (PendingRequest request in all)
        {
            request.TryFail(new ConnectionClosedException(reason));
        }
    }
}
