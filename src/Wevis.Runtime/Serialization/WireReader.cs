using System.Buffers.Binary;
using System.Globalization;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using MessagePack;

namespace Wevis.Serialization;

/// <summary>
/// Reads a message body from one contiguous span: the fast path of
/// <see cref="MessageSerializer.Read(ReadOnlySpan{byte}, MessageRegistry)"/>. Generated descriptors call its typed
/// reads from <see cref="MessageDescriptor.ReadArguments(ref WireReader)"/>; application code does not need it.
/// </summary>
/// <remarks>
/// Each read accepts exactly what the <see cref="MessagePackReader"/>-based reads of <see cref="WireFormat"/> accept
/// (any integer encoding whose value fits, a float from float32, float64 or any integer, strings decoded as
/// <see cref="MessagePackReader.ReadString"/> decodes them, float arrays as <c>bin</c> or as an array of numbers),
/// and refuses everything else with a <see cref="ProtocolException"/> whose text is the one the MessagePackReader
/// path gives, so a body reads the same whichever path it takes. Lengths are checked against the bytes present
/// before anything is allocated.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public ref struct WireReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    /// <summary>Creates a reader at the start of <paramref name="data"/>.</summary>
    public WireReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
    }

    /// <summary>The number of bytes read so far.</summary>
    public readonly int Consumed => _position;

    /// <summary>Whether every byte has been read.</summary>
    public readonly bool End => _position >= _data.Length;

    /// <summary>The bytes not read yet.</summary>
    public readonly ReadOnlySpan<byte> UnreadSpan => _data[_position..];

    private readonly int Remaining => _data.Length - _position;

    /// <summary>Moves past <paramref name="count"/> bytes that were read some other way.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than <paramref name="count"/> bytes are left.</exception>
    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Remaining);
        _position += count;
    }

    /// <summary>
    /// Reads a body's header, the array header and the wire id, and returns the number of items the array holds
    /// (wire id included).
    /// </summary>
    /// <exception cref="ProtocolException">The data does not start with a non-empty array and an integer wire id.</exception>
    public int ReadBodyHeader(out int wireId)
    {
        if (TryReadCommonHeader(_data, out int count, out wireId, out int length))
        {
            _position = length;
            return count;
        }

        return ReadBodyHeaderSlow(out wireId);
    }

    /// <summary>
    /// Reads a body's header when it is in the common form: a fixarray of 1 to 15 items, then the wire id as a
    /// positive fixint, uint8, uint16 or uint32 no larger than <see cref="int.MaxValue"/>. Anything else
    /// (including errors) is left to the general reader, which reports it. Both read paths of
    /// <see cref="MessageSerializer"/> decide with this, so they report the same errors.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool TryReadCommonHeader(ReadOnlySpan<byte> span, out int count, out int wireId, out int length)
    {
        count = 0;
        wireId = 0;
        length = 0;
        if (span.Length < 2 || span[0] is < 0x91 or > 0x9f)
        {
            return false;
        }

        count = span[0] & 0x0f;
        byte code = span[1];
        if (code <= MessagePackCode.MaxFixInt)
        {
            wireId = code;
            length = 2;
            return true;
        }

        switch (code)
        {
            case MessagePackCode.UInt32 when span.Length >= 6:
                uint value = BinaryPrimitives.ReadUInt32BigEndian(span[2..]);
                if (value > int.MaxValue)
                {
                    return false;
                }

                wireId = (int)value;
                length = 6;
                return true;
            case MessagePackCode.UInt16 when span.Length >= 4:
                wireId = BinaryPrimitives.ReadUInt16BigEndian(span[2..]);
                length = 4;
                return true;
            case MessagePackCode.UInt8 when span.Length >= 3:
                wireId = span[2];
                length = 3;
                return true;
            default:
                return false;
        }
    }

    /// <summary>Reads an <c>int</c> argument.</summary>
    /// <exception cref="ProtocolException">The next item is not an integer that fits in 32 bits.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ReadInt32(MessageDescriptor message, int argument)
    {
        int position = _position;
        ReadOnlySpan<byte> data = _data;
        if ((uint)position < (uint)data.Length && data[position] <= MessagePackCode.MaxFixInt)
        {
            _position = position + 1;
            return data[position];
        }

        return ReadInt32Slow(message, argument);
    }

    /// <summary>Reads a <c>long</c> argument.</summary>
    /// <exception cref="ProtocolException">The next item is not an integer that fits in 64 bits.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long ReadInt64(MessageDescriptor message, int argument)
    {
        int position = _position;
        ReadOnlySpan<byte> data = _data;
        if ((uint)position < (uint)data.Length && data[position] <= MessagePackCode.MaxFixInt)
        {
            _position = position + 1;
            return data[position];
        }

        return ReadInt64Slow(message, argument);
    }

    /// <summary>Reads a <c>float</c> argument; an integer is accepted too.</summary>
    /// <exception cref="ProtocolException">The next item is not a number.</exception>
    public double ReadDouble(MessageDescriptor message, int argument)
    {
        byte code = PeekCode(message, argument);
        if (!IsNumber(code))
        {
            throw Mismatch(code, message, argument);
        }

        return ReadNumber(message, argument);
    }

    /// <summary>Reads a <c>bool</c> argument.</summary>
    /// <exception cref="ProtocolException">The next item is not a boolean.</exception>
    public bool ReadBoolean(MessageDescriptor message, int argument)
    {
        byte code = PeekCode(message, argument);
        if (code is not (MessagePackCode.True or MessagePackCode.False))
        {
            throw Mismatch(code, message, argument);
        }

        _position++;
        return code == MessagePackCode.True;
    }

    /// <summary>Reads a <c>str</c> argument, decoding UTF-8 as <see cref="MessagePackReader.ReadString"/> does (invalid bytes become U+FFFD).</summary>
    /// <exception cref="ProtocolException">The next item is not a whole string.</exception>
    public string ReadString(MessageDescriptor message, int argument)
    {
        byte code = PeekCode(message, argument);
        int length;
        if ((uint)(code - MessagePackCode.MinFixStr) <= MessagePackCode.MaxFixStr - MessagePackCode.MinFixStr)
        {
            length = code & 0x1f;
            _position++;
        }
        else if (code is MessagePackCode.Str8 or MessagePackCode.Str16 or MessagePackCode.Str32)
        {
            length = ReadLength(code, message, argument);
        }
        else
        {
            throw Mismatch(code, message, argument);
        }

        // A str32 length of 2^31 or more is negative here, and refused as too long, as MessagePackReader refuses it.
        if ((uint)length > (uint)Remaining)
        {
            throw ReadErrors.ClaimsTooMuch(message, argument, ReadErrors.StringOf((uint)length), Remaining);
        }

        string value = length == 0 ? string.Empty : Encoding.UTF8.GetString(_data.Slice(_position, length));
        _position += length;
        return value;
    }

    /// <summary>Reads a <c>bytes</c> argument.</summary>
    /// <exception cref="ProtocolException">The next item is not whole binary data.</exception>
    public byte[] ReadBytes(MessageDescriptor message, int argument)
    {
        byte code = PeekCode(message, argument);
        if (!IsBinary(code))
        {
            throw Mismatch(code, message, argument);
        }

        return ReadBinary(code, message, argument).ToArray();
    }

    /// <summary>Reads a <c>?f</c> argument: <c>bin</c> of little-endian float32, or an array of numbers.</summary>
    /// <exception cref="ProtocolException">The next item is neither, or is cut off.</exception>
    public float[] ReadSingleArray(MessageDescriptor message, int argument) => ReadFloatArray<float>(message, argument, "float32");

    /// <summary>Reads a <c>?d</c> argument: <c>bin</c> of little-endian float64, or an array of numbers.</summary>
    /// <exception cref="ProtocolException">The next item is neither, or is cut off.</exception>
    public double[] ReadDoubleArray(MessageDescriptor message, int argument) => ReadFloatArray<double>(message, argument, "float64");

    /// <summary>Reads a float array of <typeparamref name="T"/> (<see cref="float"/> or <see cref="double"/>).</summary>
    private T[] ReadFloatArray<T>(MessageDescriptor message, int argument, string elementName)
        where T : unmanaged
    {
        byte code = PeekCode(message, argument);
        if (IsBinary(code))
        {
            return WireFormat.FromLittleEndian<T>(ReadBinary(code, message, argument), message, argument, elementName);
        }

        if (IsArray(code))
        {
            var values = new T[ReadArrayHeader(code, message, argument)];
            for (int i = 0; i < values.Length; i++)
            {
                byte element = PeekCode(message, argument);
                if (!IsNumber(element))
                {
                    throw ReadErrors.Argument(message, argument, $"holds {Describe(element)} at index {i}, where a number belongs");
                }

                // The type tests are constants for each T, so the JIT keeps one branch and no boxing.
                values[i] = typeof(T) == typeof(float) ? (T)(object)ReadSingleNumber(message, argument) : (T)(object)ReadNumber(message, argument);
            }

            return values;
        }

        throw Mismatch(code, message, argument);
    }

    /// <summary>The header in any form other than the common one, refusing what <see cref="WireFormat.ReadBodyHeader"/> and <see cref="WireFormat.ReadWireId"/> refuse.</summary>
    private int ReadBodyHeaderSlow(out int wireId)
    {
        if (End || !IsArray(_data[_position]))
        {
            throw ReadErrors.NotAnArray();
        }

        int count = ReadArrayHeader(_data[_position], null, 0);
        if (count < 1)
        {
            throw ReadErrors.EmptyArray();
        }

        // The count was checked against the bytes left, so at least one remains.
        byte code = _data[_position];
        if (!IsInteger(code))
        {
            throw ReadErrors.WireIdNotAnInteger(Describe(code));
        }

        wireId = ReadInt32Slow(null, 0);
        return count;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int ReadInt32Slow(MessageDescriptor? message, int argument)
    {
        long value = ReadInt64Slow(message, argument);
        if (value is < int.MinValue or > int.MaxValue)
        {
            throw OutOfRange(message, argument, value.ToString(CultureInfo.InvariantCulture));
        }

        return (int)value;
    }

    /// <summary>Reads any integer encoding; a value outside <see cref="long"/>'s range is refused, as MessagePackReader refuses it.</summary>
    /// <param name="message">The message whose argument this is; null for the wire id.</param>
    /// <param name="argument">The argument's index.</param>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private long ReadInt64Slow(MessageDescriptor? message, int argument)
    {
        byte code = PeekCode(message, argument);
        if (!IsInteger(code))
        {
            // Only argument reads get here with a non-integer: the header checks the wire id's type first.
            throw Mismatch(code, message!, argument);
        }

        ReadOnlySpan<byte> payload = TakePayload(code, message, argument);
        switch (code)
        {
            case MessagePackCode.UInt8: return payload[0];
            case MessagePackCode.UInt16: return BinaryPrimitives.ReadUInt16BigEndian(payload);
            case MessagePackCode.UInt32: return BinaryPrimitives.ReadUInt32BigEndian(payload);
            case MessagePackCode.UInt64:
                ulong unsigned = BinaryPrimitives.ReadUInt64BigEndian(payload);
                return unsigned <= long.MaxValue ? (long)unsigned : throw OutOfRange(message, argument, unsigned.ToString(CultureInfo.InvariantCulture));
            case MessagePackCode.Int8: return (sbyte)payload[0];
            case MessagePackCode.Int16: return BinaryPrimitives.ReadInt16BigEndian(payload);
            case MessagePackCode.Int32: return BinaryPrimitives.ReadInt32BigEndian(payload);
            case MessagePackCode.Int64: return BinaryPrimitives.ReadInt64BigEndian(payload);
            default: return (sbyte)code; // a positive or negative fixint
        }
    }

    /// <summary>Reads a number as <see cref="MessagePackReader.ReadDouble"/> does, converting the same way.</summary>
    private double ReadNumber(MessageDescriptor message, int argument)
    {
        byte code = _data[_position];
        ReadOnlySpan<byte> payload = TakePayload(code, message, argument);
        return code switch
        {
            MessagePackCode.Float64 => BinaryPrimitives.ReadDoubleBigEndian(payload),
            MessagePackCode.Float32 => BinaryPrimitives.ReadSingleBigEndian(payload),
            MessagePackCode.UInt8 => payload[0],
            MessagePackCode.UInt16 => BinaryPrimitives.ReadUInt16BigEndian(payload),
            MessagePackCode.UInt32 => BinaryPrimitives.ReadUInt32BigEndian(payload),
            MessagePackCode.UInt64 => BinaryPrimitives.ReadUInt64BigEndian(payload),
            MessagePackCode.Int8 => (sbyte)payload[0],
            MessagePackCode.Int16 => BinaryPrimitives.ReadInt16BigEndian(payload),
            MessagePackCode.Int32 => BinaryPrimitives.ReadInt32BigEndian(payload),
            MessagePackCode.Int64 => BinaryPrimitives.ReadInt64BigEndian(payload),
            _ => (sbyte)code,
        };
    }

    /// <summary>Reads a number as <see cref="MessagePackReader.ReadSingle"/> does, converting the same way.</summary>
    private float ReadSingleNumber(MessageDescriptor message, int argument)
    {
        byte code = _data[_position];
        ReadOnlySpan<byte> payload = TakePayload(code, message, argument);
        return code switch
        {
            MessagePackCode.Float32 => BinaryPrimitives.ReadSingleBigEndian(payload),
            MessagePackCode.Float64 => (float)BinaryPrimitives.ReadDoubleBigEndian(payload),
            MessagePackCode.UInt8 => payload[0],
            MessagePackCode.UInt16 => BinaryPrimitives.ReadUInt16BigEndian(payload),
            MessagePackCode.UInt32 => BinaryPrimitives.ReadUInt32BigEndian(payload),
            MessagePackCode.UInt64 => BinaryPrimitives.ReadUInt64BigEndian(payload),
            MessagePackCode.Int8 => (sbyte)payload[0],
            MessagePackCode.Int16 => BinaryPrimitives.ReadInt16BigEndian(payload),
            MessagePackCode.Int32 => BinaryPrimitives.ReadInt32BigEndian(payload),
            MessagePackCode.Int64 => BinaryPrimitives.ReadInt64BigEndian(payload),
            _ => (sbyte)code,
        };
    }

    /// <summary>Moves past a number's code and returns the bytes of its value (empty for a fixint).</summary>
    /// <param name="code">The number's code, at the current position.</param>
    /// <param name="message">The message whose argument this is; null for the wire id.</param>
    /// <param name="argument">The argument's index.</param>
    private ReadOnlySpan<byte> TakePayload(byte code, MessageDescriptor? message, int argument)
    {
        int size = code switch
        {
            MessagePackCode.UInt8 or MessagePackCode.Int8 => 1,
            MessagePackCode.UInt16 or MessagePackCode.Int16 => 2,
            MessagePackCode.UInt32 or MessagePackCode.Int32 or MessagePackCode.Float32 => 4,
            MessagePackCode.UInt64 or MessagePackCode.Int64 or MessagePackCode.Float64 => 8,
            _ => 0,
        };

        if (size > Remaining - 1)
        {
            throw message is null ? ReadErrors.WireIdCutOff() : ReadErrors.CutOff(message, argument);
        }

        ReadOnlySpan<byte> payload = _data.Slice(_position + 1, size);
        _position += 1 + size;
        return payload;
    }

    /// <summary>Reads a str8/16/32 or bin8/16/32 length after its code, as an <see cref="int"/> (a 32-bit length of 2^31 or more is negative, as MessagePackReader has it).</summary>
    private int ReadLength(byte code, MessageDescriptor message, int argument)
    {
        int size = code switch
        {
            MessagePackCode.Str8 or MessagePackCode.Bin8 => 1,
            MessagePackCode.Str16 or MessagePackCode.Bin16 => 2,
            _ => 4,
        };

        if (size > Remaining - 1)
        {
            throw ReadErrors.CutOff(message, argument);
        }

        ReadOnlySpan<byte> bytes = _data.Slice(_position + 1, size);
        _position += 1 + size;
        return size switch
        {
            1 => bytes[0],
            2 => BinaryPrimitives.ReadUInt16BigEndian(bytes),
            _ => BinaryPrimitives.ReadInt32BigEndian(bytes),
        };
    }

    /// <summary>Reads bin8/16/32 data, refusing what <see cref="MessagePackReader.ReadBytes"/> refuses: a length beyond the bytes present.</summary>
    private ReadOnlySpan<byte> ReadBinary(byte code, MessageDescriptor message, int argument)
    {
        int length = ReadLength(code, message, argument);

        // A bin32 length of 2^31 or more is negative here, and refused as too long, as MessagePackReader refuses it.
        if ((uint)length > (uint)Remaining)
        {
            throw ReadErrors.ClaimsTooMuch(message, argument, ReadErrors.BinaryOf((uint)length), Remaining);
        }

        ReadOnlySpan<byte> bytes = _data.Slice(_position, length);
        _position += length;
        return bytes;
    }

    /// <summary>Reads an array header, refusing what <see cref="MessagePackReader.ReadArrayHeader"/> refuses: fewer bytes left than items.</summary>
    /// <param name="code">The array's code, at the current position.</param>
    /// <param name="message">The message whose argument this is; null for the body's own array.</param>
    /// <param name="argument">The argument's index.</param>
    private int ReadArrayHeader(byte code, MessageDescriptor? message, int argument)
    {
        int count;
        if (code == MessagePackCode.Array16 || code == MessagePackCode.Array32)
        {
            int size = code == MessagePackCode.Array16 ? 2 : 4;
            if (size > Remaining - 1)
            {
                throw message is null ? ReadErrors.HeaderCutOff() : ReadErrors.CutOff(message, argument);
            }

            ReadOnlySpan<byte> bytes = _data.Slice(_position + 1, size);
            count = size == 2 ? BinaryPrimitives.ReadUInt16BigEndian(bytes) : BinaryPrimitives.ReadInt32BigEndian(bytes);
            _position += 1 + size;
        }
        else
        {
            count = code & 0x0f;
            _position++;
        }

        // An array32 count of 2^31 or more is negative here, and fails this check too, as it does in MessagePackReader.
        if ((uint)count > (uint)Remaining)
        {
            throw message is null
                ? ReadErrors.HeaderClaimsTooMany((uint)count, Remaining)
                : ReadErrors.ClaimsTooMuch(message, argument, ReadErrors.ArrayOf((uint)count), Remaining);
        }

        return count;
    }

    /// <summary>The code at the current position, where an argument (or, when <paramref name="message"/> is null, the wire id) starts.</summary>
    private readonly byte PeekCode(MessageDescriptor? message, int argument) =>
        _position < _data.Length ? _data[_position] : throw Missing(message, argument);

    private static bool IsInteger(byte code) =>
        code <= MessagePackCode.MaxFixInt || code >= MessagePackCode.MinNegativeFixInt || (uint)(code - MessagePackCode.UInt8) <= MessagePackCode.Int64 - MessagePackCode.UInt8;

    private static bool IsNumber(byte code) => IsInteger(code) || code is MessagePackCode.Float32 or MessagePackCode.Float64;

    private static bool IsBinary(byte code) => code is MessagePackCode.Bin8 or MessagePackCode.Bin16 or MessagePackCode.Bin32;

    private static bool IsArray(byte code) =>
        (uint)(code - MessagePackCode.MinFixArray) <= MessagePackCode.MaxFixArray - MessagePackCode.MinFixArray
        || code is MessagePackCode.Array16 or MessagePackCode.Array32;

    /// <summary>The data ends where an argument (or, when <paramref name="message"/> is null, the wire id) should start.</summary>
    private static ProtocolException Missing(MessageDescriptor? message, int argument) =>
        message is null ? ReadErrors.WireIdMissing() : ReadErrors.Missing(message, argument);

    /// <summary>An integer outside its type's range: an argument's (int or long), or the wire id's (when <paramref name="message"/> is null).</summary>
    private static ProtocolException OutOfRange(MessageDescriptor? message, int argument, string value) =>
        message is null ? ReadErrors.WireIdOutOfRange(value) : ReadErrors.OutOfRange(message, argument, value);

    private static ProtocolException Mismatch(byte code, MessageDescriptor message, int argument) =>
        ReadErrors.Mismatch(message, argument, Describe(code));

    private static string Describe(byte code) => ReadErrors.Describe(MessagePackCode.ToMessagePackType(code));
}
