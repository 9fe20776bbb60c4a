using System.Net;
using System.Net.Sockets;

namespace Wevis.Sessions;

/// <summary>
/// Counts failed logins per IP address and refuses an address that failed too often within a window, until the
/// window has passed. IPv6 addresses count by their /64 prefix (one host usually holds a whole /64), so an attacker
/// cannot dodge the count by changing the low bits of its address.
/// </summary>
/// <remarks>
/// The table is bounded: expired entries are dropped when it is full, and if it is still full (more than
/// <see cref="MaxTrackedAddresses"/> addresses failed within one window) a new address is not tracked until room
/// frees up. Addresses already tracked stay refused, so a flood from many addresses cannot grow memory or lift a
/// refusal; it only leaves its own newest addresses uncounted.
/// </remarks>
internal sealed class LoginThrottle(int maxFailures, TimeSpan window, TimeProvider time)
{
    /// <summary>The most addresses counted at once.</summary>
    public const int MaxTrackedAddresses = 10_000;

    private readonly Lock _lock = new();
    private readonly Dictionary<IPAddress, (int Failures, long WindowStart)> _failures = [];
    private readonly long _windowMilliseconds = (long)window.TotalMilliseconds;
    private readonly long _start = time.GetTimestamp();
    private long _earliestExpiry;

    /// <summary>How many addresses are being counted now.</summary>
    public int TrackedAddresses
    {
        get
        {
            lock (_lock)
            {
                return _failures.Count;
            }
        }
    }

    /// <summary>Whether logins from <paramref name="address"/> are being refused now.</summary>
    public bool IsRefused(IPAddress? address)
    {
        if (maxFailures == 0 || address is null)
        {
            return false;
        }

        IPAddress key = KeyOf(address);
        lock (_lock)
        {
            return _failures.TryGetValue(key, out var entry)
                && entry.Failures >= maxFailures
                && Now() - entry.WindowStart < _windowMilliseconds;
        }
    }

    /// <summary>Counts a failed login from <paramref name="address"/>; true if this failure is the one that gets it refused.</summary>
    public bool RecordFailure(IPAddress? address)
    {
        if (maxFailures == 0 || address is null)
        {
            return false;
        }

        IPAddress key = KeyOf(address);
        long now = Now();
        lock (_lock)
        {
            bool tracked = _failures.TryGetValue(key, out var entry);
            if (!tracked && _failures.Count >= MaxTrackedAddresses)
            {
                // Scanning cannot free anything before the oldest entry expires, so a flood does not scan each time.
                if (now >= _earliestExpiry)
                {
                    RemoveExpired(now);
                }

                if (_failures.Count >= MaxTrackedAddresses)
                {
                    return false;
                }
            }

            int failures = tracked && now - entry.WindowStart < _windowMilliseconds ? entry.Failures + 1 : 1;
            _failures[key] = (failures, failures == 1 ? now : entry.WindowStart);
            return failures == maxFailures;
        }
    }

    /// <summary>Milliseconds since the throttle was made, on its clock.</summary>
    private long Now() => (long)time.GetElapsedTime(_start).TotalMilliseconds;

    private void RemoveExpired(long now)
    {
        long oldestKept = now;
        foreach (var (key, value) in _failures)
        {
            if (now - value.WindowStart >= _windowMilliseconds)
            {
                _failures.Remove(key);
            }
            else
            {
                oldestKept = Math.Min(oldestKept, value.WindowStart);
            }
        }

        _earliestExpiry = oldestKept + _windowMilliseconds;
    }

    private static IPAddress KeyOf(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address;
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes);
    }
}
