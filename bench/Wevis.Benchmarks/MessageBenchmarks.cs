using System.Buffers;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Example;
using MessagePack;
using Wevis.Serialization;

namespace Wevis.Benchmarks;

/// <summary>Small messages: write to a reused buffer, and read from bytes, through Wevis and through MessagePack-CSharp.</summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class MessageBenchmarks
{
    private static readonly MessagePackSerializerOptions Options = MessagePackSerializerOptions.Standard;
    private readonly ArrayBufferWriter<byte> _buffer = new(256);
    private readonly MessageRegistry _registry = WevisRegistry.Messages;
    private readonly ItIs _itIs = new(13, 37);
    private readonly YouAre _youAre = new("michael");
    private readonly ItIsShape _itIsShape = new() { WireId = ((IMessage)new ItIs(0, 0)).Descriptor.WireId, Hours = 13, Minutes = 37 };
    private readonly YouAreShape _youAreShape = new() { WireId = ((IMessage)new YouAre("")).Descriptor.WireId, Name = "michael" };
    private ReadOnlyMemory<byte> _itIsBytes;
    private ReadOnlyMemory<byte> _youAreBytes;

    [GlobalSetup]
    public void Setup()
    {
        _itIsBytes = MessageSerializer.ToBytes(_itIs);
        _youAreBytes = MessageSerializer.ToBytes(_youAre);
        if (!_itIsBytes.Span.SequenceEqual(MessagePackSerializer.Serialize(_itIsShape, Options))
            || !_youAreBytes.Span.SequenceEqual(MessagePackSerializer.Serialize(_youAreShape, Options)))
        {
            throw new InvalidOperationException("The baseline shapes do not encode to the same bytes as the Wevis messages.");
        }
    }

    [Benchmark, BenchmarkCategory("ItIs write")]
    public int Wevis_ItIs_Write()
    {
        _buffer.ResetWrittenCount();
        MessageSerializer.Write(_buffer, _itIs);
        return _buffer.WrittenCount;
    }

    [Benchmark(Baseline = true), BenchmarkCategory("ItIs write")]
    public int MessagePack_ItIs_Write()
    {
        _buffer.ResetWrittenCount();
        MessagePackSerializer.Serialize(_buffer, _itIsShape, Options);
        return _buffer.WrittenCount;
    }

    [Benchmark, BenchmarkCategory("ItIs read")]
    public IMessage Wevis_ItIs_Read() => MessageSerializer.Read(_itIsBytes, _registry);

    [Benchmark(Baseline = true), BenchmarkCategory("ItIs read")]
    public ItIsShape MessagePack_ItIs_Read() => MessagePackSerializer.Deserialize<ItIsShape>(_itIsBytes, Options);

    [Benchmark, BenchmarkCategory("YouAre write")]
    public int Wevis_YouAre_Write()
    {
        _buffer.ResetWrittenCount();
        MessageSerializer.Write(_buffer, _youAre);
        return _buffer.WrittenCount;
    }

    [Benchmark(Baseline = true), BenchmarkCategory("YouAre write")]
    public int MessagePack_YouAre_Write()
    {
        _buffer.ResetWrittenCount();
        MessagePackSerializer.Serialize(_buffer, _youAreShape, Options);
        return _buffer.WrittenCount;
    }

    [Benchmark, BenchmarkCategory("YouAre read")]
    public IMessage Wevis_YouAre_Read() => MessageSerializer.Read(_youAreBytes, _registry);

    [Benchmark(Baseline = true), BenchmarkCategory("YouAre read")]
    public YouAreShape MessagePack_YouAre_Read() => MessagePackSerializer.Deserialize<YouAreShape>(_youAreBytes, Options);
}
