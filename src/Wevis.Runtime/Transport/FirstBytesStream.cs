namespace Wevis.Transport;

/// <summary>
/// Passes a stream through unchanged, keeping a copy of the first few bytes read from it. The client puts it under
/// its TLS stream so that a failed handshake can tell what the server sent instead: a plain Wevis welcome means the
/// server does not use TLS (<see cref="TlsDetection.LooksLikeWevisFrame"/>). Once those bytes are in, it only
/// forwards calls.
/// </summary>
internal sealed class FirstBytesStream(Stream inner) : Stream
{
    private readonly byte[] _first = new byte[8];
    private int _recorded;

    /// <summary>The first bytes read (up to 8).</summary>
    public ReadOnlySpan<byte> FirstBytes => _first.AsSpan(0, _recorded);

    public override bool CanRead => inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Record(buffer.AsSpan(offset, inner.Read(buffer, offset, count)));

    public override int Read(Span<byte> buffer) => Record(buffer[..inner.Read(buffer)]);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // Once the first bytes are in, reads go straight through, without a state machine of their own.
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        _recorded < _first.Length ? ReadAndRecordAsync(buffer, cancellationToken) : inner.ReadAsync(buffer, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

    public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        inner.WriteAsync(buffer, offset, count, cancellationToken);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        inner.WriteAsync(buffer, cancellationToken);

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync() => inner.DisposeAsync();

    private async ValueTask<int> ReadAndRecordAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        return Record(buffer.Span[..read]);
    }

    private int Record(ReadOnlySpan<byte> read)
    {
        if (_recorded < _first.Length)
        {
            ReadOnlySpan<byte> taken = read[..Math.Min(read.Length, _first.Length - _recorded)];
            taken.CopyTo(_first.AsSpan(_recorded));
            _recorded += taken.Length;
        }

        return read.Length;
    }
}
