using System.Buffers;
using System.Buffers.Binary;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MessagePack;

namespace Wevis.Serialization;

/// <summary>
/// Reads and writes message arguments in Wevis's MessagePack form, with errors that name the message and
/// argument. Generated formatters call these; application code does not need them.
/// </summary>
/// <remarks>
/// Float arrays (<c>?f</c>, <c>?d</c>) are written as MessagePack <c>bin</c> holding the values in little-endian
/// IEEE 754, which copies at memory speed; a MessagePack array of numbers is also accepted when reading, for
/// peers that find that easier to write. Lengths are checked against the bytes actually present before
/// anything is allocated.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class WireFormat
{
    /// <summary>Reads a body's array header: the number of items, wire id included.</summary>
    /// <exception cref="ProtocolException">The data does not start with a non-empty array header.</exception>
    public static int ReadBodyHeader(ref MessagePackReader reader)
    {
        if (reader.End || reader.NextMessagePackType != MessagePackType.Array)
        {
            throw ReadErrors.NotAnArray();
        }

        int count = reader.ReadArrayHeader();
        if (count < 1)
        {
            throw ReadErrors.EmptyArray();
        }

        return count;
    }

    /// <summary>Reads the wire id that starts a body.</summary>
    /// <exception cref="ProtocolException">The next item is not a 32-bit integer.</exception>
    public static int ReadWireId(ref MessagePackReader reader)
    {
        if (reader.NextMessagePackType != MessagePackType.Integer)
        {
            throw ReadErrors.WireIdNotAnInteger(Describe(ref reader));
        }

        return reader.ReadInt32();
    }

    /// <summary>Reads an <c>int</c> argument.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ReadInt32(ref MessagePackReader reader, MessageDescriptor message, int argument)
    {
        if (!IsInteger(reader.NextCode))
        {
            throw Mismatch(ref reader, message, argument);
        }

        return reader.ReadInt32();
    }

    /// <summary>Reads a <c>long</c> argument.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long ReadInt64(ref MessagePackReader reader, MessageDescriptor message, int argument)
    {
        if (!IsInteger(reader.NextCode))
        {
            throw Mismatch(ref reader, message, argument);
        }

        return reader.ReadInt64();
    }

    /// <summary>Reads a <c>float</c> argument; an integer is accepted too.</summary>
    public static double ReadDouble(ref MessagePackReader reader, MessageDescriptor message, int argument)
    {
        MessagePackType type = reader.NextMessagePackType;
        if (type != MessagePackType.Float && type != MessagePackType.Integer)
        {
            throw Mismatch(ref reader, message, argument);
        }

        return reader.ReadDouble();
    }

    /// <summary>Reads a <c>bool</c> argument.</summary>
    public static bool ReadBoolean(ref MessagePackReader reader, MessageDescriptor message, int argument)
    {
        Expect(ref reader, MessagePackType.Boolean, message, argument);
        return reader.ReadBoolean();
    }

    /// <summary>Reads a <c>str</c> argument.</summary>
    public static string ReadString(ref MessagePackReader reader, MessageDescriptor message, int argument)
    {
        Expect(ref reader, MessagePackType.String, message, argument);
        return reader.ReadString()!;
    }

    /// <summary>Reads a <c>bytes</c> argument.</summary>
    public static byte[] ReadBytes(ref MessagePackReader reader, MessageDescriptor message, int argument)
    {
        Expect(ref reader, MessagePackType.Binary, message, argument);
        ReadOnlySequence<byte> bytes = reader.ReadBytes()!.Value;
        return bytes.IsEmpty ? [] : bytes.ToArray();
    }

    /// <summary>Reads a <c>?f</c> argument: <c>bin</c> of little-endian float32, or an array of numbers.</summary>
    public static float[] ReadSingleArray(ref MessagePackReader reader, MessageDescriptor message, int argument) =>
        ReadFloatArray<float>(ref reader, message, argument, "float32");

    /// <summary>Reads a <c>?d</c> argument: <c>bin</c> of little-endian float64, or an array of numbers.</summary>
    public static double[] ReadDoubleArray(ref MessagePackReader reader, MessageDescriptor message, int argument) =>
        ReadFloatArray<double>(ref reader, message, argument, "float64");

    /// <summary>The values of a float array's <c>bin</c> form (little-endian <typeparamref name="T"/>), checked to be whole.</summary>
    internal static T[] FromLittleEndian<T>(ReadOnlySpan<byte> bytes, MessageDescriptor message, int argument, string elementName)
        where T : unmanaged
    {
        T[] values = NewFloatArray<T>(bytes.Length, message, argument, elementName);
        bytes.CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
        return ToHostOrder(values);
    }

    private static T[] FromLittleEndian<T>(in ReadOnlySequence<byte> bytes, MessageDescriptor message, int argument, string elementName)
        where T : unmanaged
    {
        T[] values = NewFloatArray<T>(bytes.Length, message, argument, elementName);
        bytes.CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
        return ToHostOrder(values);
    }

    private static T[] ReadFloatArray<T>(ref MessagePackReader reader, MessageDescriptor message, int argument, string elementName)
        where T : unmanaged
    {
        MessagePackType type = reader.NextMessagePackType;
        if (type == MessagePackType.Binary)
        {
            return FromLittleEndian<T>(reader.ReadBytes()!.Value, message, argument, elementName);
        }

        if (type == MessagePackType.Array)
        {
            var values = new T[reader.ReadArrayHeader()];
            for (int i = 0; i < values.Length; i++)
            {
                MessagePackType element = reader.NextMessagePackType;
                if (element != MessagePackType.Float && element != MessagePackType.Integer)
                {
                    throw ReadErrors.Argument(message, argument, $"holds {Describe(ref reader)} at index {i}, where a number belongs");
                }

                // The type tests are constants for each T, so the JIT keeps one branch and no boxing.
                values[i] = typeof(T) == typeof(float) ? (T)(object)reader.ReadSingle() : (T)(object)reader.ReadDouble();
            }

            return values;
        }

        throw Mismatch(ref reader, message, argument);
    }

    /// <summary>An array for <paramref name="byteLength"/> bytes of <typeparamref name="T"/>, which the caller fills completely.</summary>
    private static T[] NewFloatArray<T>(long byteLength, MessageDescriptor message, int argument, string elementName)
        where T : unmanaged
    {
        int size = Unsafe.SizeOf<T>();
        if (byteLength % size != 0)
        {
            throw ReadErrors.Argument(message, argument, $"holds {byteLength} bytes, which is not a whole number of {elementName} values");
        }

        // Every element is overwritten by the copy, so the array need not be zeroed first.
        return GC.AllocateUninitializedArray<T>((int)(byteLength / size));
    }

    /// <summary>Turns little-endian values into this machine's order (nothing to do on little-endian machines).</summary>
    private static T[] ToHostOrder<T>(T[] values)
        where T : unmanaged
    {
        if (!BitConverter.IsLittleEndian)
        {
            if (Unsafe.SizeOf<T>() == sizeof(int))
            {
                Span<int> bits = MemoryMarshal.Cast<T, int>(values.AsSpan());
                BinaryPrimitives.ReverseEndianness(bits, bits);
            }
            else
            {
                Span<long> bits = MemoryMarshal.Cast<T, long>(values.AsSpan());
                BinaryPrimitives.ReverseEndianness(bits, bits);
            }
        }

        return values;
    }

    /// <summary>Writes a <c>str</c> argument.</summary>
    /// <exception cref="ArgumentNullException">The value is null.</exception>
    public static void WriteString(ref MessagePackWriter writer, string? value, MessageDescriptor message, int argument)
    {
        writer.Write(value ?? throw NullArgument(message, argument));
    }

    /// <summary>Writes a <c>bytes</c> argument.</summary>
    /// <exception cref="ArgumentNullException">The value is null.</exception>
    public static void WriteBytes(ref MessagePackWriter writer, byte[]? value, MessageDescriptor message, int argument)
    {
        writer.Write((value ?? throw NullArgument(message, argument)).AsSpan());
    }

    /// <summary>Writes a <c>?f</c> argument as <c>bin</c> of little-endian float32.</summary>
    /// <exception cref="ArgumentNullException">The value is null.</exception>
    public static void WriteSingleArray(ref MessagePackWriter writer, float[]? value, MessageDescriptor message, int argument)
    {
        ReadOnlySpan<float> values = value ?? throw NullArgument(message, argument);
        if (BitConverter.IsLittleEndian)
        {
            writer.Write(MemoryMarshal.AsBytes(values));
            return;
        }

        writer.WriteBinHeader(values.Length * sizeof(float));
        foreach (float v in values)
        {
            Span<byte> span = writer.GetSpan(sizeof(float));
            BinaryPrimitives.WriteSingleLittleEndian(span, v);
            writer.Advance(sizeof(float));
        }
    }

    /// <summary>Writes a <c>?d</c> argument as <c>bin</c> of little-endian float64.</summary>
    /// <exception cref="ArgumentNullException">The value is null.</exception>
    public static void WriteDoubleArray(ref MessagePackWriter writer, double[]? value, MessageDescriptor message, int argument)
    {
        ReadOnlySpan<double> values = value ?? throw NullArgument(message, argument);
        if (BitConverter.IsLittleEndian)
        {
            writer.Write(MemoryMarshal.AsBytes(values));
            return;
        }

        writer.WriteBinHeader(values.Length * sizeof(double));
        foreach (double v in values)
        {
            Span<byte> span = writer.GetSpan(sizeof(double));
            BinaryPrimitives.WriteDoubleLittleEndian(span, v);
            writer.Advance(sizeof(double));
        }
    }

    /// <summary>Whether a MessagePack code starts an integer: a fixint, or uint8 to int64 (0xcc to 0xd3).</summary>
    private static bool IsInteger(byte code) => code <= MessagePackCode.MaxFixInt || code >= MessagePackCode.MinNegativeFixInt || (uint)(code - MessagePackCode.UInt8) <= MessagePackCode.Int64 - MessagePackCode.UInt8;

    private static void Expect(ref MessagePackReader reader, MessagePackType expected, MessageDescriptor message, int argument)
    {
        if (reader.NextMessagePackType != expected)
        {
            throw Mismatch(ref reader, message, argument);
        }
    }

    private static ProtocolException Mismatch(ref MessagePackReader reader, MessageDescriptor message, int argument) =>
        ReadErrors.Mismatch(message, argument, Describe(ref reader));

    private static ArgumentNullException NullArgument(MessageDescriptor message, int argument) =>
        new(message.Arguments[argument].PropertyName, $"{message.Name}.{message.Arguments[argument].PropertyName} is null; Wevis messages cannot carry null.");

    private static string Describe(ref MessagePackReader reader) => ReadErrors.Describe(reader.NextMessagePackType);
}
