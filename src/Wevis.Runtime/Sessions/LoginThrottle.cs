using System.Net;
using System.Net.Sockets;

namespace Wevis.Sessions;

/// <summary>
/// Counts failed logins per IP address and refuses an address that failed too often within a window, until the
/// window has passed. IPv6 addresses count by their /64 prefix (one host usually holds a whole /64), so an attacker
/// cannot dodge the count by changing the low bits of its address.
/// </summary>
/// <remarks>
/// <para>
/// A login holds one of its address's attempts from before the validator is asked until its answer is counted
/// (<see cref="TryBeginAsync"/>, <see cref="End"/>): the failures an address has made and the attempts it has under
/// way together never pass the maximum, so many logins sent at once cannot all reach the validator before their
/// failures are counted. A login over that waits (within the login timeout) for an attempt of its address to end,
/// and is refused if that one failed and made the address refused; logins that succeed only take turns.
/// </para>
/// <para>
/// The table is bounded: expired entries are dropped when it is full, and if it is still full (more than
/// <see cref="MaxTrackedAddresses"/> addresses failed within one window) a new address is not tracked until room
/// frees up. Addresses already tracked stay refused, so a flood from many addresses cannot grow memory or lift a
/// refusal; it only leaves its own newest addresses uncounted. The attempts under way are counted apart, and an
/// address is dropped from that count when its last attempt ends, so it is bounded by the logins under way.
/// </para>
/// </remarks>
internal sealed class LoginThrottle(int maxFailures, TimeSpan window, TimeProvider time)
{
    /// <summary>The most addresses counted at once.</summary>
    public const int MaxTrackedAddresses = 10_000;

    private readonly Lock _lock = new();
    private readonly Dictionary<IPAddress, (int Failures, long WindowStart)> _failures = [];
    private readonly Dictionary<IPAddress, Attempts> _underWay = [];
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
            return FailuresLocked(key, Now()) >= maxFailures;
        }
    }

    /// <summary>
    /// Begins a login attempt from <paramref name="address"/>: true once it holds one of the address's attempts (the
    /// caller then asks the validator, and calls <see cref="End"/> with its answer); false if the address is refused.
    /// While the address's failures and attempts under way reach the maximum, waits for one of them to end.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled while waiting.</exception>
    public async ValueTask<bool> TryBeginAsync(IPAddress? address, CancellationToken cancellationToken)
    {
        if (maxFailures == 0 || address is null)
        {
            return true;
        }

        IPAddress key = KeyOf(address);
        while (true)
        {
            Task ended;
            lock (_lock)
            {
                int failures = FailuresLocked(key, Now());
                if (failures >= maxFailures)
                {
                    return false;
                }

                if (!_underWay.TryGetValue(key, out Attempts? attempts))
                {
                    attempts = new Attempts();
                    _underWay.Add(key, attempts);
                }

                if (failures + attempts.Count < maxFailures)
                {
                    attempts.Count++;
                    return true;
                }

                ended = (attempts.Ended ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }

            await ended.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Ends an attempt begun with <see cref="TryBeginAsync"/>, counting it as a failure if it <paramref name="failed"/>;
    /// true if this failure is the one that gets the address refused.
    /// </summary>
    public bool End(IPAddress? address, bool failed)
    {
        if (maxFailures == 0 || address is null)
        {
            return false;
        }

        IPAddress key = KeyOf(address);
        long now = Now();
        TaskCompletionSource? ended = null;
        bool refusedNow;
        lock (_lock)
        {
            refusedNow = failed && RecordFailureLocked(key, now);
            if (_underWay.TryGetValue(key, out Attempts? attempts))
            {
                if (--attempts.Count == 0)
                {
                    _underWay.Remove(key);
                }

                (ended, attempts.Ended) = (attempts.Ended, null);
            }
        }

        // Those waiting look again: the failure may have got the address refused, or a place is free.
        ended?.TrySetResult();
        return refusedNow;
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
            return RecordFailureLocked(key, now);
        }
    }

    /// <summary>The failures counted for <paramref name="key"/> in the window now running (under the lock).</summary>
    private int FailuresLocked(IPAddress key, long now) =>
        _failures.TryGetValue(key, out var entry) && now - entry.WindowStart < _windowMilliseconds ? entry.Failures : 0;

    private bool RecordFailureLocked(IPAddress key, long now)
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

    /// <summary>An address's attempts under way, and what completes when one of them ends (made when a login waits).</summary>
    private sealed class Attempts
    {
        public int Count;
        public TaskCompletionSource? Ended;
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
