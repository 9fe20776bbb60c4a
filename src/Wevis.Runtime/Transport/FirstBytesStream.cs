namespace Wevis.Transport;

/// <summary>
/// Passes a stream through unchanged, keeping a copy of the first few bytes read from it. The client puts it under
/// its TLS stream so that a failed handshake can tell what the server sent instead: a plain Wevis welcome means the
/// server does not use TLS (<see cref="TlsDetection.LooksLikeWevisFrame"/>). Once those bytes are in, it only
/// forwards calls.
/// </summary>
internal sealed class FirstBytesStream(Stream inner) : PassThroughStream(inner)
{
    private readonly byte[] _first = new byte[8];
    private int _recorded;

    /// <summary>The first bytes read (up to 8).</summary>
    public ReadOnlySpan<byte> FirstBytes => _first.AsSpan(0, _recorded);

    public override int Read(byte[] buffer, int offset, int count) => Record(buffer.AsSpan(offset, Inner.Read(buffer, offset, count)));

    public override int Read(Span<byte> buffer) => Record(buffer[..Inner.Read(buffer)]);

    // Once the first bytes are in, reads go straight through, without a state machine of their own.
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        _recorded < _first.Length ? ReadAndRecordAsync(buffer, cancellationToken) : Inner.ReadAsync(buffer, cancellationToken);

    private async ValueTask<int> ReadAndRecordAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int read = await Inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
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
