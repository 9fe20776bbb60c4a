using System.Buffers;
using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Example;
using Wevis.Diagnostics;
using Wevis.Transport;

namespace Wevis.Benchmarks;

/// <summary>
/// What the server's metrics cost on the receive and send paths: decoding a read of 64 <c>ItIs</c> frames (the
/// receive loop's work per batch) and queueing 64 replies' worth of counts, with no metrics (the baseline), with
/// metrics no one listens to (the default in production without an exporter), and with a listener on every instrument.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class MetricsBenchmarks
{
    private const int Frames = 64;
    private readonly MessageRegistry _registry = MessageRegistry.Combine(Wevis.WevisRegistry.Messages, WevisRegistry.Messages);
    private readonly MessageDescriptor _itIs = ((IMessage)new ItIs(13, 37)).Descriptor;
    private byte[] _read = [];
    private FrameDecoder _plain = null!;
    private FrameDecoder _unheard = null!;
    private FrameDecoder _heard = null!;
    private ServerMetrics _unheardMetrics = null!;
    private ServerMetrics _heardMetrics = null!;
    private MeterListener _listener = null!;
    private long _heardTotal;

    [GlobalSetup]
    public void Setup()
    {
        var frames = new ArrayBufferWriter<byte>();
        for (int i = 0; i < Frames; i++)
        {
            FrameBuffer frame = FrameBuffer.Encode(new ItIs(13, i % 60));
            frames.Write(frame.Frame);
            FrameBuffer.Return(frame);
        }

        _read = frames.WrittenSpan.ToArray();
        _unheardMetrics = new ServerMetrics(null, _registry, new NoObservations());
        _heardMetrics = new ServerMetrics(null, _registry, new NoObservations());
        _plain = new FrameDecoder(_registry, 1024 * 1024);
        _unheard = new FrameDecoder(_registry, 1024 * 1024) { Metrics = _unheardMetrics };
        _heard = new FrameDecoder(_registry, 1024 * 1024) { Metrics = _heardMetrics };
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter, _heardMetrics.Meter))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => _heardTotal += value);
        _listener.Start();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _listener.Dispose();
        _unheardMetrics.Dispose();
        _heardMetrics.Dispose();
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Receive64")]
    public int Receive_NoMetrics() => Decode(_plain);

    [Benchmark]
    [BenchmarkCategory("Receive64")]
    public int Receive_MetricsUnheard() => Decode(_unheard);

    [Benchmark]
    [BenchmarkCategory("Receive64")]
    public int Receive_MetricsHeard() => Decode(_heard);

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Send64")]
    public int Send_NoMetrics() => CountSends(null);

    [Benchmark]
    [BenchmarkCategory("Send64")]
    public int Send_MetricsUnheard() => CountSends(_unheardMetrics);

    [Benchmark]
    [BenchmarkCategory("Send64")]
    public int Send_MetricsHeard() => CountSends(_heardMetrics);

    private int Decode(FrameDecoder decoder)
    {
        decoder.TakeFrames(_read, ended: false, out int consumed);
        int count = decoder.Batch.Count;
        decoder.Batch.Clear();
        return count + consumed;
    }

    /// <summary>What SendQueue adds per message queued: the metrics call with the frame's type and length.</summary>
    private int CountSends(ServerMetrics? metrics)
    {
        int total = 0;
        for (int i = 0; i < Frames; i++)
        {
            metrics?.Sent(_itIs, 9);
            total += 9;
        }

        return total;
    }

    private sealed class NoObservations : IServerObservations
    {
        public int OpenConnections => 0;

        public int LoggedInSessions => 0;

        public long QueuedBytes => 0;

        public long MostQueuedBytes => 0;

        public IEnumerable<Measurement<long>> RoomsByType() => [];
    }
}
