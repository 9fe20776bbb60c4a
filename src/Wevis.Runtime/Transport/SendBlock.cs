namespace Wevis.Transport;

/// <summary>
/// One block of an <see cref="OutgoingBuffer"/>: the bytes from <see cref="Start"/> to <see cref="End"/> are written
/// and not yet taken for sending; the block after it in the buffer is <see cref="Next"/>.
/// </summary>
internal sealed class SendBlock(byte[] array, bool pooled)
{
    /// <summary>The block's bytes.</summary>
    public byte[] Array { get; } = array;

    /// <summary>Whether the block goes back to <see cref="SendBufferPool"/> (else its array goes back to the shared array pool).</summary>
    public bool Pooled { get; } = pooled;

    /// <summary>Where the bytes not yet taken for sending begin.</summary>
    public int Start { get; set; }

    /// <summary>Where the written bytes end, and the next write begins.</summary>
    public int End { get; set; }

    /// <summary>The next block of the buffer (written after this one), or of the blocks being sent.</summary>
    public SendBlock? Next { get; set; }

    /// <summary>The room left for writing.</summary>
    public int Free => Array.Length - End;

    /// <summary>Empties the block for its next use.</summary>
    public void Reset()
    {
        Start = 0;
        End = 0;
        Next = null;
    }
}
