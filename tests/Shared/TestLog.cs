using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Wevis.Tests.Shared;

/// <summary>One captured log entry.</summary>
internal sealed record LogEntry(string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception);

/// <summary>
/// A logger factory that keeps every entry, so tests can assert what was logged and wait for an entry to appear
/// (woken by each new entry, not by polling). A test cluster's silos log into one too, as a provider.
/// </summary>
internal sealed class TestLog : ILoggerFactory, ILoggerProvider
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();
    private readonly Lock _lock = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyList<LogEntry> Entries => [.. _entries];

    /// <summary>
    /// Called with each entry as it is logged, on the logging thread, after it is kept: a test may hold the code under
    /// test at a logged point (blocking there) until it has set up what must happen meanwhile.
    /// </summary>
    public Action<LogEntry>? Logged { get; set; }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    /// <summary>How many entries match <paramref name="match"/> so far.</summary>
    public int Count(Func<LogEntry, bool> match) => _entries.Count(match);

    /// <summary>Waits until an entry matching <paramref name="match"/> has been logged, or fails after <paramref name="timeout"/>.</summary>
    public async Task<LogEntry> WaitForAsync(Func<LogEntry, bool> match, TimeSpan? timeout = null)
    {
        LogEntry? found = null;
        await WaitUntilAsync(entries => (found = entries.FirstOrDefault(match)) is not null, timeout);
        return found!;
    }

    /// <summary>
    /// Waits until <paramref name="count"/> entries matching <paramref name="match"/> have been logged. Entries logged
    /// from several threads need not arrive in the order of what they report, so a test waits for all of them.
    /// </summary>
    public Task WaitForCountAsync(Func<LogEntry, bool> match, int count, TimeSpan? timeout = null) =>
        WaitUntilAsync(entries => entries.Count(match) >= count, timeout);

    /// <summary>Waits until the entries logged so far satisfy <paramref name="condition"/> (checked at each new entry), or fails after <paramref name="timeout"/>.</summary>
    public async Task WaitUntilAsync(Func<IEnumerable<LogEntry>, bool> condition, TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                changed = _changed.Task;
            }

            if (condition(_entries))
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
                    "The expected log entry did not appear. Logged:\n" + string.Join("\n", _entries.Select(e => $"  {e.EventId.Id} {e.Level} {e.Category}: {e.Message}")));
            }
        }
    }

    private void Add(LogEntry entry)
    {
        _entries.Enqueue(entry);
        TaskCompletionSource changed;
        lock (_lock)
        {
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
        Logged?.Invoke(entry);
    }

    private sealed class Logger(TestLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            log.Add(new LogEntry(category, logLevel, eventId, formatter(state, exception), exception));
    }
}
