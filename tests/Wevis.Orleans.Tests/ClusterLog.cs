using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Wevis.Orleans.Tests;

/// <summary>One captured log entry of a test cluster's silos.</summary>
internal sealed record ClusterLogEntry(string Category, LogLevel Level, EventId EventId, string Message);

/// <summary>
/// A logger provider that keeps every entry the test cluster's silos log under a Wevis category (from Debug up), so
/// tests can wait for an event the cluster logs (woken by each new entry, not by polling).
/// </summary>
internal sealed class ClusterLog : ILoggerProvider
{
    private readonly ConcurrentQueue<ClusterLogEntry> _entries = new();
    private readonly Lock _lock = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyList<ClusterLogEntry> Entries => [.. _entries];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    /// <summary>How many entries match <paramref name="match"/> so far.</summary>
    public int Count(Func<ClusterLogEntry, bool> match) => _entries.Count(match);

    /// <summary>Waits until <paramref name="count"/> entries match <paramref name="match"/>, or fails after <paramref name="timeout"/> (10 s unless told).</summary>
    public async Task WaitForCountAsync(Func<ClusterLogEntry, bool> match, int count, TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                changed = _changed.Task;
            }

            if (_entries.Count(match) >= count)
            {
                return;
            }

            try
            {
                await changed.WaitAsync(cancel.Token);
            }
            catch (OperationCanceledException)
            {
                throw new Xunit.Sdk.XunitException(
                    $"The expected log entries ({count}) did not appear. Logged:\n" + string.Join("\n", _entries.Select(e => $"  {e.EventId.Id} {e.Level} {e.Category}: {e.Message}")));
            }
        }
    }

    private void Add(ClusterLogEntry entry)
    {
        _entries.Enqueue(entry);
        TaskCompletionSource changed;
        lock (_lock)
        {
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    private sealed class Logger(ClusterLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            log.Add(new ClusterLogEntry(category, logLevel, eventId, formatter(state, exception)));
    }
}
