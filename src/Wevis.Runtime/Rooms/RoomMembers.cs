namespace Wevis.Rooms;

/// <summary>
/// Who is in a room, and the seats held for users on their way in or out, under one lock: capacity, lock and
/// closing are decided against members and held seats together, so two users racing for the last place cannot
/// both get it.
/// </summary>
/// <remarks>
/// A user moving between rooms holds a seat in both until the move is done: in the new room, so it cannot fill
/// up meanwhile; in the old one, so they can go back to it if the new room refuses them.
/// </remarks>
internal sealed class RoomMembers
{
    private readonly Lock _lock = new();
    private readonly List<Connection> _members = [];
    private Connection[] _snapshot = [];
    private int _held;
    private RoomState _state;
    private bool _used;
    private int? _capacity;
    private bool _isLocked;

    /// <summary>
    /// Called after what a listing shows changes (seats held or given back, capacity, lock, closing, disposal), outside
    /// the lock; a cluster's room reports it to its room type's directory. Null on a single server.
    /// </summary>
    public Action? Changed { get; set; }

    /// <summary>The most members plus held seats; null: no limit.</summary>
    public int? Capacity
    {
        get => _capacity;
        set
        {
            _capacity = value;
            Changed?.Invoke();
        }
    }

    /// <summary>
    /// Whether the room counts as used, so that becoming empty disposes it: a user has entered it, or it was made
    /// for a user to join. A room made by code stays until someone has been in it.
    /// </summary>
    public bool Used
    {
        set
        {
            lock (_lock)
            {
                _used = value;
            }
        }
    }

    /// <summary>Whether new users are refused.</summary>
    public bool IsLocked
    {
        get => _isLocked;
        set
        {
            _isLocked = value;
            Changed?.Invoke();
        }
    }

    /// <summary>The members now, in the order they entered. The array is never changed: a new one replaces it.</summary>
    public Connection[] Snapshot => Volatile.Read(ref _snapshot);

    public RoomState State
    {
        get
        {
            lock (_lock)
            {
                return _state;
            }
        }
    }

    /// <summary>Members plus seats held for users on their way in or out.</summary>
    public int Occupied
    {
        get
        {
            lock (_lock)
            {
                return _members.Count + _held;
            }
        }
    }

    /// <summary>Holds a seat for a user about to enter; returns why not (full, locked, closed), or null.</summary>
    /// <param name="force">Ignore the capacity and the lock (a user the server puts back into the entry room).</param>
    public string? TryHoldSeat(bool force)
    {
        lock (_lock)
        {
            if (_state != RoomState.Open)
            {
                return "the room is closed";
            }

            if (!force && IsLocked)
            {
                return "the room is locked";
            }

            if (!force && Capacity is { } capacity && _members.Count + _held >= capacity)
            {
                return $"the room is full ({capacity} users)";
            }

            _held++;
        }

        Changed?.Invoke();
        return null;
    }

    /// <summary>Turns a held seat into a member; false (the seat still held) if the room is closing.</summary>
    public bool Enter(Connection connection)
    {
        lock (_lock)
        {
            if (_state != RoomState.Open)
            {
                return false;
            }

            _held--;
            _members.Add(connection);
            Volatile.Write(ref _snapshot, [.. _members]);
            return true;
        }
    }

    /// <summary>
    /// Turns a member back into a held seat (they are leaving, or their enter hook refused them); false if they
    /// are not a member (room code moved them out meanwhile).
    /// </summary>
    public bool Leave(Connection connection)
    {
        lock (_lock)
        {
            if (!_members.Remove(connection))
            {
                return false;
            }

            _held++;
            Volatile.Write(ref _snapshot, [.. _members]);
            return true;
        }
    }

    /// <summary>Whether <paramref name="connection"/> is a member.</summary>
    public bool Contains(Connection connection)
    {
        lock (_lock)
        {
            return _members.Contains(connection);
        }
    }

    /// <summary>
    /// Gives back a held seat. Returns true if the room is now empty and must be disposed: it was closing, or
    /// <paramref name="autoDispose"/> is set; it is then marked disposed, so no seat can be held in it again.
    /// </summary>
    public bool ReleaseSeat(bool autoDispose)
    {
        bool disposed;
        lock (_lock)
        {
            _held--;
            disposed = DisposeIfEmptyLocked(autoDispose);
        }

        Changed?.Invoke();
        return disposed;
    }

    /// <summary>Marks the room closing: no new seats. Returns true if it is already empty (and now disposed).</summary>
    public bool BeginClosing()
    {
        bool disposed;
        lock (_lock)
        {
            if (_state == RoomState.Open)
            {
                _state = RoomState.Closing;
            }

            disposed = DisposeIfEmptyLocked(autoDispose: true);
        }

        Changed?.Invoke();
        return disposed;
    }

    /// <summary>Marks the room disposed whatever it holds; false if it already was.</summary>
    public bool MarkDisposed()
    {
        lock (_lock)
        {
            if (_state == RoomState.Disposed)
            {
                return false;
            }

            _state = RoomState.Disposed;
        }

        Changed?.Invoke();
        return true;
    }

    private bool DisposeIfEmptyLocked(bool autoDispose)
    {
        if (_members.Count == 0 && _held == 0 && _state != RoomState.Disposed && ((autoDispose && _used) || _state == RoomState.Closing))
        {
            _state = RoomState.Disposed;
            return true;
        }

        return false;
    }
}

/// <summary>Where a room is in its life.</summary>
internal enum RoomState
{
    /// <summary>Takes users.</summary>
    Open,

    /// <summary>Closed by code: takes no one, its users are being sent away; disposed when empty.</summary>
    Closing,

    /// <summary>Gone from the directory; its dispose hook has run or is running.</summary>
    Disposed,
}
