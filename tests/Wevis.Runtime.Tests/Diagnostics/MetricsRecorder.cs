using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Wevis.Runtime.Tests.Diagnostics;

/// <summary>
/// Listens (with a <see cref="MeterListener"/>) to the instruments of the servers given its <see cref="Factory"/>
/// only, so tests running at the same time do not count each other's measurements.
/// </summary>
internal sealed class MetricsRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<Recorded> _recorded = new();
    private readonly ConcurrentDictionary<string, long> _observed = new();

    public MetricsRecorder()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, Factory))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>Give it to <see cref="ServerOptions.MeterFactory"/>.</summary>
    public TestMeterFactory Factory { get; } = new();

    /// <summary>The sum of the values recorded on <paramref name="instrument"/> whose tags include all of <paramref name="tags"/>.</summary>
    public double Sum(string instrument, params (string Key, object? Value)[] tags) =>
        Matching(instrument, tags).Sum(r => r.Value);

    /// <summary>How many values were recorded on <paramref name="instrument"/> with all of <paramref name="tags"/> (a histogram's count).</summary>
    public int Count(string instrument, params (string Key, object? Value)[] tags) =>
        Matching(instrument, tags).Count();

    /// <summary>The values recorded on <paramref name="instrument"/> with all of <paramref name="tags"/>.</summary>
    public IReadOnlyList<double> Values(string instrument, params (string Key, object? Value)[] tags) =>
        [.. Matching(instrument, tags).Select(r => r.Value)];

    /// <summary>Collects the observable instruments now and returns what <paramref name="instrument"/> reported for <paramref name="tags"/> (0 if nothing).</summary>
    public long Observe(string instrument, params (string Key, object? Value)[] tags)
    {
        _observed.Clear();
        _listener.RecordObservableInstruments();
        return _observed.GetValueOrDefault(Key(instrument, tags));
    }

    public void Dispose() => _listener.Dispose();

    private void Record<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        where T : struct
    {
        double number = Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture);
        KeyValuePair<string, object?>[] copy = tags.ToArray();
        if (instrument.IsObservable)
        {
            _observed[Key(instrument.Name, [.. copy.Select(t => (t.Key, t.Value))])] = (long)number;
        }
        else
        {
            _recorded.Enqueue(new Recorded(instrument.Name, number, copy));
        }
    }

    private IEnumerable<Recorded> Matching(string instrument, (string Key, object? Value)[] tags) =>
        _recorded.Where(r => r.Instrument == instrument && tags.All(t => r.Tags.Any(k => k.Key == t.Key && Equals(k.Value, t.Value))));

    private static string Key(string instrument, (string Key, object? Value)[] tags) =>
        instrument + string.Concat(tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $";{t.Key}={t.Value}"));

    private sealed record Recorded(string Instrument, double Value, KeyValuePair<string, object?>[] Tags);
}

/// <summary>A meter factory whose meters carry it as their scope, so a listener can pick one server's instruments.</summary>
internal sealed class TestMeterFactory : IMeterFactory
{
    public ConcurrentBag<Meter> Meters { get; } = [];

    public Meter Create(MeterOptions options)
    {
        options.Scope = this;
        var meter = new Meter(options);
        Meters.Add(meter);
        return meter;
    }

    public void Dispose()
    {
        foreach (Meter meter in Meters)
        {
            meter.Dispose();
        }
    }
}
