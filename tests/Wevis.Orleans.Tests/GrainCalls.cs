using System.Collections.Concurrent;

namespace Wevis.Orleans.Tests;

/// <summary>Counts the grain calls the test cluster's silos take, by interface and method, so tests can bound them.</summary>
internal static class GrainCalls
{
    private static readonly ConcurrentDictionary<string, int> Calls = new(StringComparer.Ordinal);

    private static readonly ConcurrentDictionary<(string Method, int Count), TaskCompletionSource> Waiters = new();

    /// <summary>The calls that ran to the end (their method returned), by method.</summary>
    private static readonly ConcurrentDictionary<string, int> Finished = new(StringComparer.Ordinal);

    private static readonly ConcurrentDictionary<(string Method, int Count), TaskCompletionSource> FinishWaiters = new();

    /// <summary>Waiters for a finished call whose first argument matches (<see cref="FinishedWith{T}"/>).</summary>
    private static readonly ConcurrentDictionary<ArgumentWaiter, byte> ArgumentWaiters = new();

    /// <summary>Completes when the reply of <see cref="LosingReply"/>'s call has been lost; null when no loss is awaited.</summary>
    private static TaskCompletionSource? s_replyLost;

    /// <summary>A call of the method reached the silo (before it runs, or fails as a test's fault).</summary>
    public static void Count(string interfaceName, string methodName) => Add(Calls, Waiters, interfaceName, methodName);

    /// <summary>A call of the method, with <paramref name="firstArgument"/> (or null), ran to the end (whatever the caller then hears).</summary>
    public static void CountFinished(string interfaceName, string methodName, object? firstArgument)
    {
        Add(Finished, FinishWaiters, interfaceName, methodName);
        if (ArgumentWaiters.IsEmpty)
        {
            return;
        }

        string name = $"{interfaceName[(interfaceName.LastIndexOf('.') + 1)..]}.{methodName}";
        foreach (ArgumentWaiter waiter in ArgumentWaiters.Keys)
        {
            if (waiter.Method == name && waiter.Matches(firstArgument) && ArgumentWaiters.TryRemove(waiter, out _))
            {
                waiter.Done.TrySetResult();
            }
        }
    }

    /// <summary>
    /// Completes once a call of <paramref name="method"/> ("IRoomTypeGrain.Report") whose first argument matches
    /// <paramref name="match"/> has run to the end, after this call: set it up before what makes the call.
    /// </summary>
    public static Task FinishedWith<T>(string method, Func<T, bool> match)
    {
        var waiter = new ArgumentWaiter(method, argument => argument is T typed && match(typed), new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        ArgumentWaiters.TryAdd(waiter, 0);
        return waiter.Done.Task;
    }

    /// <summary>
    /// Completes once the room <paramref name="roomId"/> has told its type's grain (the directory) a listing that
    /// matches <paramref name="match"/>, after this call: the directory lists what the room reported.
    /// </summary>
    public static Task Listed(string roomId, Func<RoomListing, bool> match) =>
        FinishedWith<RoomListing>("IRoomTypeGrain.Report", listing => listing.Info.Id == roomId && match(listing));

    /// <summary>Completes once the silos have taken <paramref name="count"/> calls of <paramref name="method"/> ("IRoomGrain.Leave") in all.</summary>
    public static Task Reached(string method, int count) => WhenAt(Calls, Waiters, method, count);

    /// <summary>How many calls of <paramref name="method"/> ("ISessionGrain.End") have run to the end.</summary>
    public static int FinishedCount(string method) => Finished.GetValueOrDefault(method);

    /// <summary>Completes once <paramref name="count"/> calls of <paramref name="method"/> ("ISessionGrain.End") in all have run to the end.</summary>
    public static Task FinishedAt(string method, int count) => WhenAt(Finished, FinishWaiters, method, count);

    public static void Reset()
    {
        Calls.Clear();
        Finished.Clear();
    }

    private static void Add(ConcurrentDictionary<string, int> counts, ConcurrentDictionary<(string Method, int Count), TaskCompletionSource> waiters, string interfaceName, string methodName)
    {
        string name = $"{interfaceName[(interfaceName.LastIndexOf('.') + 1)..]}.{methodName}";
        int count = counts.AddOrUpdate(name, 1, static (_, n) => n + 1);
        foreach (var waiter in waiters)
        {
            if (waiter.Key.Method == name && count >= waiter.Key.Count && waiters.TryRemove(waiter))
            {
                // Removed once done: after a Reset, the same count is a later call's, not this one's.
                waiter.Value.TrySetResult();
            }
        }
    }

    private static Task WhenAt(ConcurrentDictionary<string, int> counts, ConcurrentDictionary<(string Method, int Count), TaskCompletionSource> waiters, string method, int count)
    {
        if (counts.GetValueOrDefault(method) >= count)
        {
            return Task.CompletedTask;
        }

        TaskCompletionSource waiter = waiters.GetOrAdd((method, count), static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

        // Counted between the look above and the add: no later call may complete it.
        if (counts.GetValueOrDefault(method) >= count && waiters.TryRemove(new((method, count), waiter)))
        {
            waiter.TrySetResult();
        }

        return waiter.Task;
    }

    /// <summary>A method ("ISessionGrain.HeldBy") whose calls the silos fail, or null.</summary>
    public static volatile string? Failing;

    /// <summary>A method whose calls to one grain the silos fail, or null (<see cref="CallFault"/>).</summary>
    public static volatile CallFault? FailingOn;

    /// <summary>The exception a call should fail with (<see cref="FailingOn"/>), or null.</summary>
    public static Exception? FaultFor(string interfaceName, string methodName, string grainKey) =>
        FailingOn is { } fault && fault.Method == $"{interfaceName[(interfaceName.LastIndexOf('.') + 1)..]}.{methodName}" && fault.GrainKey == grainKey
            ? (fault.AsTimeout ? new TimeoutException($"{methodName} timed out (a test's fault)") : new InvalidOperationException($"{methodName} fails (a test's fault)"))
            : null;

    /// <summary>A method ("IRoomGrain.TakeOver") whose next call the silos run but answer with a timeout (its reply lost), once; or null.</summary>
    public static string? LosingReply;

    /// <summary>
    /// Loses the reply of the next call of <paramref name="method"/> (<see cref="LosingReply"/>); completes once it
    /// has (the call ran, and its caller is about to hear a timeout).
    /// </summary>
    public static Task LoseNextReply(string method)
    {
        var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref s_replyLost, lost);
        Volatile.Write(ref LosingReply, method);
        return lost.Task;
    }

    /// <summary>Whether this call's reply is the one to lose (<see cref="LosingReply"/>); true once.</summary>
    public static bool TakeLosingReply(string interfaceName, string methodName)
    {
        string name = $"{interfaceName[(interfaceName.LastIndexOf('.') + 1)..]}.{methodName}";
        // Compared by value, then cleared by reference (the exchange compares references): one call only takes it.
        string? losing = Volatile.Read(ref LosingReply);
        if (losing != name || !ReferenceEquals(Interlocked.CompareExchange(ref LosingReply, null, losing), losing))
        {
            return false;
        }

        Interlocked.Exchange(ref s_replyLost, null)?.TrySetResult();
        return true;
    }

    /// <summary>A method ("ISessionGrain.Claim") whose calls the silos hold until a task completes, or null.</summary>
    public static volatile CallHold? Holding;

    /// <summary>What a call to the method must wait for before it runs (<see cref="Holding"/>); a completed task if nothing.</summary>
    public static Task HeldUntil(string interfaceName, string methodName) =>
        Holding is { } hold && hold.Method == $"{interfaceName[(interfaceName.LastIndexOf('.') + 1)..]}.{methodName}" ? hold.Until : Task.CompletedTask;

    /// <summary>Whether the call should fail (<see cref="Failing"/>).</summary>
    public static bool ShouldFail(string interfaceName, string methodName) =>
        Failing is { } failing && failing == $"{interfaceName[(interfaceName.LastIndexOf('.') + 1)..]}.{methodName}";

    /// <summary>The calls to methods of <paramref name="interfaceName"/> (its short name), by method.</summary>
    public static Dictionary<string, int> To(string interfaceName) =>
        Calls.Where(call => call.Key.StartsWith(interfaceName + ".", StringComparison.Ordinal)).ToDictionary(call => call.Key, call => call.Value);
}

/// <summary>A test waits for a finished call of <paramref name="Method"/> whose first argument <paramref name="Matches"/>.</summary>
internal sealed record ArgumentWaiter(string Method, Func<object?, bool> Matches, TaskCompletionSource Done);

/// <summary>Calls to <paramref name="Method"/> ("ISessionGrain.Claim") wait for <paramref name="Until"/> before they run.</summary>
internal sealed record CallHold(string Method, Task Until);

/// <summary>
/// Calls to <paramref name="Method"/> ("IRoomGrain.Enter") of the grain keyed <paramref name="GrainKey"/> fail before
/// they run: with a fault, or (<paramref name="AsTimeout"/>) as calls lost on their way, which callers make again.
/// </summary>
internal sealed record CallFault(string Method, string GrainKey, bool AsTimeout);
