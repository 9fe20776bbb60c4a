using System.Buffers;
using System.IO.Pipelines;
using Wevis.Transport;

namespace Wevis.Testing;

/// <summary>
/// One end of an in-process connection: what it writes, the other end reads, through a bounded pipe each way (so a
/// peer that does not read pushes back, as TCP does). Ending the writing side (<see cref="ShutdownSend"/>) is seen
/// by the peer as the end of the stream, as a TCP FIN; disposing without it is seen as a reset.
/// </summary>
internal sealed class InMemoryStream : Stream, IHalfClosableStream
{
    /// <summary>Unread bytes at which a writer waits, as a full socket buffer makes it wait.</summary>
    private const long PauseWriterThreshold = 1024 * 1024;

    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private int _sendShut;
    private int _disposed;

    private InMemoryStream(PipeReader input, PipeWriter output)
    {
        _input = input;
        _output = output;
    }

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>Two ends joined to each other: the client's and the server's.</summary>
    public static (InMemoryStream Client, InMemoryStream Server) CreatePair()
    {
        var options = new PipeOptions(
            pauseWriterThreshold: PauseWriterThreshold,
            resumeWriterThreshold: PauseWriterThreshold / 2,
            readerScheduler: PipeScheduler.ThreadPool,
            writerScheduler: PipeScheduler.ThreadPool,
            useSynchronizationContext: false);
        var toServer = new Pipe(options);
        var toClient = new Pipe(options);
        return (new InMemoryStream(toClient.Reader, toServer.Writer), new InMemoryStream(toServer.Reader, toClient.Writer));
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ReadResult result = await _input.ReadAsync(cancellationToken).ConfigureAwait(false);
        ReadOnlySequence<byte> data = result.Buffer;
        if (buffer.Length == 0)
        {
            // A zero-byte read waits for data without taking any.
            _input.AdvanceTo(data.Start);
            return 0;
        }

        int count = (int)Math.Min(buffer.Length, data.Length);
        data.Slice(0, count).CopyTo(buffer.Span);
        _input.AdvanceTo(data.GetPosition(count));
        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _sendShut) != 0)
        {
            throw new IOException("Cannot write after the sending side was shut.");
        }

        FlushResult result = await _output.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (result.IsCompleted)
        {
            throw new IOException("The connection was reset by the peer.");
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc/>
    public void ShutdownSend()
    {
        if (Interlocked.Exchange(ref _sendShut, 1) == 0)
        {
            _output.Complete();
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            if (Interlocked.Exchange(ref _sendShut, 1) == 0)
            {
                // Closed without shutting the sending side first: the peer sees a reset, as with TCP.
                _output.Complete(new IOException("The connection was reset by the peer."));
            }

            _input.Complete();
        }

        base.Dispose(disposing);
    }
}
