using System.Runtime.CompilerServices;

namespace Wevis.Tests.Shared;

/// <summary>
/// A bound on a test's wait: awaiting <c>task.Within()</c> fails after a while with a message that names what was
/// awaited (the awaited expression's own source text, unless told otherwise), instead of hanging the run until
/// CI's guard stops it.
/// </summary>
internal static class Bounded
{
    /// <summary>How long a test waits for anything that should happen at once (ten times over on a slow machine).</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    public static async Task Within(this Task task, TimeSpan? timeout = null, [CallerArgumentExpression(nameof(task))] string what = "")
    {
        TimeSpan limit = timeout ?? DefaultTimeout;
        try
        {
            await task.WaitAsync(limit);
        }
        catch (TimeoutException) when (!task.IsCompleted)
        {
            throw new TimeoutException(Describe(what, limit));
        }
    }

    public static async Task<T> Within<T>(this Task<T> task, TimeSpan? timeout = null, [CallerArgumentExpression(nameof(task))] string what = "")
    {
        TimeSpan limit = timeout ?? DefaultTimeout;
        try
        {
            return await task.WaitAsync(limit);
        }
        catch (TimeoutException) when (!task.IsCompleted)
        {
            throw new TimeoutException(Describe(what, limit));
        }
    }

    public static Task Within(this ValueTask task, TimeSpan? timeout = null, [CallerArgumentExpression(nameof(task))] string what = "") =>
        task.AsTask().Within(timeout, what);

    public static Task<T> Within<T>(this ValueTask<T> task, TimeSpan? timeout = null, [CallerArgumentExpression(nameof(task))] string what = "") =>
        task.AsTask().Within(timeout, what);

    private static string Describe(string what, TimeSpan limit) =>
        $"Waited {limit.TotalSeconds:0.###} s for {(string.IsNullOrEmpty(what) ? "a task" : what)}; it did not finish.";
}
