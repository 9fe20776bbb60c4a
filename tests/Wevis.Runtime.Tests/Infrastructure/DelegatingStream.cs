using Wevis.Transport;

namespace Wevis.Runtime.Tests.Infrastructure;

/// <summary>
/// The runtime's <see cref="PassThroughStream"/>, with synchronous reads that go through the asynchronous one too: a
/// test's stream overrides only what it changes, usually <see cref="PassThroughStream.ReadAsync(Memory{byte}, CancellationToken)"/>,
/// and an override of that covers every read.
/// </summary>
internal abstract class DelegatingStream(Stream inner) : PassThroughStream(inner)
{
    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override int Read(Span<byte> buffer)
    {
        byte[] read = new byte[buffer.Length];
        int count = Read(read, 0, read.Length);
        read.AsSpan(0, count).CopyTo(buffer);
        return count;
    }
}
