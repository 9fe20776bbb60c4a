using MessagePack;

namespace Wevis.Benchmarks;

// The same shapes as the Wevis messages, for MessagePack-CSharp's own attribute-based formatters
// ([MessagePackObject], [Key]). Key 0 holds the wire id, so ItIs and YouAre encode to the very bytes Wevis
// writes; float arrays are MessagePack's own encoding of float[] and double[] (an array of numbers).

/// <summary><c>ItIs hours=int minutes=int</c>.</summary>
[MessagePackObject]
public sealed class ItIsShape
{
    [Key(0)]
    public int WireId { get; set; }

    [Key(1)]
    public int Hours { get; set; }

    [Key(2)]
    public int Minutes { get; set; }
}

/// <summary><c>YouAre name=str</c>.</summary>
[MessagePackObject]
public sealed class YouAreShape
{
    [Key(0)]
    public int WireId { get; set; }

    [Key(1)]
    public string Name { get; set; } = string.Empty;
}

/// <summary><c>SomeFloats singles=?f doubles=?d</c>.</summary>
[MessagePackObject]
public sealed class SomeFloatsShape
{
    [Key(0)]
    public int WireId { get; set; }

    [Key(1)]
    public float[] Singles { get; set; } = [];

    [Key(2)]
    public double[] Doubles { get; set; } = [];
}
