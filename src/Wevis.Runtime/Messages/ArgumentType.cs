namespace Wevis;

/// <summary>The type of a message argument, as named in a definitions file.</summary>
public enum ArgumentType
{
    /// <summary><c>int</c>: a 32-bit signed integer (<see cref="int"/>).</summary>
    Int32,

    /// <summary><c>long</c>: a 64-bit signed integer (<see cref="long"/>).</summary>
    Int64,

    /// <summary><c>float</c>: a 64-bit floating-point number (<see cref="double"/>).</summary>
    Double,

    /// <summary><c>bool</c>: <see langword="true"/> or <see langword="false"/>.</summary>
    Boolean,

    /// <summary><c>str</c>: a UTF-8 string (<see cref="string"/>), never null.</summary>
    String,

    /// <summary><c>bytes</c>: a byte array, never null.</summary>
    Bytes,

    /// <summary><c>?f</c>: an array of 32-bit floats (<see cref="float"/>[]), never null.</summary>
    SingleArray,

    /// <summary><c>?d</c>: an array of 64-bit floats (<see cref="double"/>[]), never null.</summary>
    DoubleArray,
}
