using System.Buffers;
using BenchmarkDotNet.Attributes;
using Example;
using Wevis.Serialization;
using Wevis.Transport;

namespace Wevis.Benchmarks;

/// <summary>The transport's framing of an <c>ItIs</c>: encode (length prefix and body) and decode (take the frame, read the message).</summary>
[MemoryDiagnoser]
public class FrameBenchmarks
{
    private readonly ItIs _message = new(13, 37);
    private readonly MessageRegistry _registry = MessageRegistry.Combine(Wevis.WevisRegistry.Messages, WevisRegistry.Messages);
    private ReadOnlySequence<byte> _frame;

    [GlobalSetup]
    public void Setup()
    {
        FrameBuffer buffer = FrameBuffer.Encode(_message);
        _frame = new ReadOnlySequence<byte>(buffer.Frame.ToArray());
        FrameBuffer.Return(buffer);
    }

    [Benchmark]
    public int Frame_Encode()
    {
        FrameBuffer buffer = FrameBuffer.Encode(_message);
        int length = buffer.Frame.Length;
        FrameBuffer.Return(buffer);
        return length;
    }

    [Benchmark]
    public IMessage? Frame_Decode()
    {
        ReadOnlySequence<byte> received = _frame;
        return FrameReader.TryReadFrame(ref received, 1024 * 1024, out ReadOnlySequence<byte> body)
            ? MessageSerializer.Read(body, _registry)
            : null;
    }
}
