namespace Wevis.Generator.Model
{
    /// <summary>The argument types a definitions file can name. Kept in step with the runtime's <c>Wevis.ArgumentType</c>.</summary>
    internal enum WireType
    {
        Int32,
        Int64,
        Double,
        Boolean,
        String,
        Bytes,
        SingleArray,
        DoubleArray,
    }
}
