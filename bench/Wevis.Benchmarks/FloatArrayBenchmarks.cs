using System.Buffers;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Example;
using MessagePack;
using Wevis.Serialization;

namespace Wevis.Benchmarks;

/// <summary>
/// <c>SomeFloats</c> with <see cref="Elements"/> singles and as many doubles (12 bytes of payload per element):
/// Wevis writes them as MessagePack bin (little-endian IEEE 754), MessagePack-CSharp as arrays of numbers.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class FloatArrayBenchmarks
{
    private static readonly MessagePackSerializerOptions Options = MessagePackSerializerOptions.Standard;
    private readonly MessageRegistry _registry = WevisRegistry.Messages;
    private ArrayBufferWriter<byte> _buffer = null!;
    private SomeFloats _message = null!;
    private SomeFloatsShape _shape = null!;
    private ReadOnlyMemory<byte> _wevisBytes;
    private ReadOnlyMemory<byte> _messagePackBytes;

    [Params(1_000, 1_000_000)]
    public int Elements { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        float[] singles = [.. Enumerable.Range(0, Elements).Select(_ => random.NextSingle())];
        double[] doubles = [.. Enumerable.Range(0, Elements).Select(_ => random.NextDouble())];
        _message = new SomeFloats(singles, doubles);
        _shape = new SomeFloatsShape { WireId = ((IMessage)_message).Descriptor.WireId, Singles = singles, Doubles = doubles };
        _wevisBytes = MessageSerializer.ToBytes(_message);
        _messagePackBytes = MessagePackSerializer.Serialize(_shape, Options);
        _buffer = new ArrayBufferWriter<byte>(Math.Max(_wevisBytes.Length, _messagePackBytes.Length) + 64);
        Console.WriteLine($"// SomeFloats x {Elements}: Wevis body {_wevisBytes.Length:N0} bytes, MessagePack-CSharp {_messagePackBytes.Length:N0} bytes");
    }

    [Benchmark, BenchmarkCategory("SomeFloats write")]
    public int Wevis_SomeFloats_Write()
    {
        _buffer.ResetWrittenCount();
        MessageSerializer.Write(_buffer, _message);
        return _buffer.WrittenCount;
    }

    [Benchmark(Baseline = true), BenchmarkCategory("SomeFloats write")]
    public int MessagePack_SomeFloats_Write()
    {
        _buffer.ResetWrittenCount();
        MessagePackSerializer.Serialize(_buffer, _shape, Options);
        return _buffer.WrittenCount;
    }

    [Benchmark, BenchmarkCategory("SomeFloats read")]
    public IMessage Wevis_SomeFloats_Read() => MessageSerializer.Read(_wevisBytes, _registry);

    [Benchmark(Baseline = true), BenchmarkCategory("SomeFloats read")]
    public SomeFloatsShape MessagePack_SomeFloats_Read() => MessagePackSerializer.Deserialize<SomeFloatsShape>(_messagePackBytes, Options);
}
