using System.Net;

namespace Wevis;

/// <summary>
/// Counts failed logins per IP address and refuses an address that failed too often within a window, until the
/// window has passed. Entries expire, so the table cannot be grown without bound by many addresses.
/// </summary>
internal sealed class LoginThrottle(int maxFailures, TimeSpan window)
{
    private const int PruneThreshold = 10_000;
    private readonly Lock _lock = new();
    private readonly Dictionary<IPAddress, (int Failures, long WindowStart)> _failures = [];
    private readonly long _windowMilliseconds = (long)window.TotalMilliseconds;

    /// <summary>Whether logins from <paramref name="address"/> are being refused now.</summary>
    public bool IsRefused(IPAddress? address)
    {
        if (maxFailures == 0 || address is null)
        {
            return false;
        }

        lock (_lock)
        {
            return _failures.TryGetValue(address, out var entry)
                && entry.Failures >= maxFailures
                && Environment.TickCount64 - entry.WindowStart < _windowMilliseconds;
        }
    }

    /// <summary>Counts a failed login from <paramref name="address"/>.</summary>
    public void RecordFailure(IPAddress? address)
    {
        if (maxFailures == 0 || address is null)
        {
            return;
        }

        long now = Environment.TickCount64;
        lock (_lock)
        {
            if (_failures.Count >= PruneThreshold)
            {
                foreach (var (key, value) in _failures)
                {
                    if (now - value.WindowStart >= _windowMilliseconds)
                    {
                        _failures.Remove(key);
                    }
                }
            }

            _failures[address] = _failures.TryGetValue(address, out var entry) && now - entry.WindowStart < _windowMilliseconds
                ? (entry.Failures + 1, entry.WindowStart)
                : (1, now);
        }
    }
}
