namespace Wevis.Sessions;

/// <summary>
/// Counts each user's open connections (by <see cref="User.Name"/>) and holds them to
/// <see cref="ServerOptions.MaxConnectionsPerUser"/>.
/// </summary>
internal sealed class UserConnectionLimit(int maxPerUser)
{
    private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>Takes a place for <paramref name="name"/>; false if the user already has the most allowed.</summary>
    public bool TryAdd(string name)
    {
        lock (_lock)
        {
            _counts.TryGetValue(name, out int count);
            if (count >= maxPerUser)
            {
                return false;
            }

            _counts[name] = count + 1;
            return true;
        }
    }

    /// <summary>Gives back one place of <paramref name="name"/>.</summary>
    public void Remove(string name)
    {
        lock (_lock)
        {
            if (_counts.TryGetValue(name, out int count))
            {
                if (count <= 1)
                {
                    _counts.Remove(name);
                }
                else
                {
                    _counts[name] = count - 1;
                }
            }
        }
    }

    /// <summary>How many connections <paramref name="name"/> has open.</summary>
    public int CountOf(string name)
    {
        lock (_lock)
        {
            return _counts.GetValueOrDefault(name);
        }
    }
}
