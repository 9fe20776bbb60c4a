using System.Buffers.Binary;
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
        byte code = PeekCode(message);
        if (!IsNumber(code))
        {
            throw Mismatch(code, message, argument);
        }

        return ReadNumber(message);
    }

    /// <summary>Reads a <c>bool</c> argument.</summary>
    /// <exception cref="ProtocolException">The next item is not a boolean.</exception>
    public bool ReadBoolean(MessageDescriptor message, int argument)
    {
        byte code = PeekCode(message);
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
        byte code = PeekCode(message);
        int length;
        if ((uint)(code - MessagePackCode.MinFixStr) <= MessagePackCode.MaxFixStr - MessagePackCode.MinFixStr)
        {
            length = code & 0x1f;
            _position++;
        }
        else if (code is MessagePackCode.Str8 or MessagePackCode.Str16 or MessagePackCode.Str32)
        {
            length = ReadLength(code, message);
            if (length < 0)
            {
                // MessagePackReader takes a str32 length of 2^31 or more as negative and fails slicing with it.
                throw Malformed(message, new ArgumentOutOfRangeException().Message);
            }
        }
        else
        {
            throw Mismatch(code, message, argument);
        }

        if (length > Remaining)
        {
            throw EndOfData(message);
        }

        string value = length == 0 ? string.Empty : Encoding.UTF8.GetString(_data.Slice(_position, length));
        _position += length;
        return value;
    }

    /// <summary>Reads a <c>bytes</c> argument.</summary>
    /// <exception cref="ProtocolException">The next item is not whole binary data.</exception>
    public byte[] ReadBytes(MessageDescriptor message, int argument)
    {
        byte code = PeekCode(message);
        if (!IsBinary(code))
        {
            throw Mismatch(code, message, argument);
        }

        return ReadBinary(code, message).ToArray();
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
        byte code = PeekCode(message);
        if (IsBinary(code))
        {
            return WireFormat.FromLittleEndian<T>(ReadBinary(code, message), message, argument, elementName);
        }

        if (IsArray(code))
        {
            var values = new T[ReadArrayHeader(code, message)];
            for (int i = 0; i < values.Length; i++)
            {
                byte element = PeekCode(message);
                if (!IsNumber(element))
                {
                    throw Invalid(message, argument, $"holds {Describe(element)} at index {i}, where a number belongs");
                }

                // The type tests are constants for each T, so the JIT keeps one branch and no boxing.
                values[i] = typeof(T) == typeof(float) ? (T)(object)ReadSingleNumber(message) : (T)(object)ReadNumber(message);
            }

            return values;
        }

        throw Mismatch(code, message, argument);
    }

    /// <summary>The header in any form other than the common one, with the checks and errors of <see cref="WireFormat.ReadBodyHeader"/> and <see cref="WireFormat.ReadWireId"/>.</summary>
    private int ReadBodyHeaderSlow(out int wireId)
    {
        if (End || !IsArray(_data[_position]))
        {
            throw new ProtocolException("A message body must be a MessagePack array of the wire id and the arguments.");
        }

        int count = ReadArrayHeader(_data[_position], null);
        if (count < 1)
        {
            throw new ProtocolException("A message body must start with its wire id, but the array is empty.");
        }

        byte code = PeekCode(null);
        if (!IsInteger(code))
        {
            throw new ProtocolException($"A message body must start with an integer wire id, but found {Describe(code)}.");
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
            throw Malformed(message, new OverflowException().Message);
        }

        return (int)value;
    }

    /// <summary>Reads any integer encoding; a value outside <see cref="long"/>'s range is refused as MessagePackReader refuses it (an overflow).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private long ReadInt64Slow(MessageDescriptor? message, int argument)
    {
        byte code = PeekCode(message);
        if (!IsInteger(code))
        {
            // Only argument reads get here with a non-integer: the header checks the wire id's type first.
            throw Mismatch(code, message!, argument);
        }

        ReadOnlySpan<byte> payload = TakePayload(code, message);
        switch (code)
        {
            case MessagePackCode.UInt8: return payload[0];
            case MessagePackCode.UInt16: return BinaryPrimitives.ReadUInt16BigEndian(payload);
            case MessagePackCode.UInt32: return BinaryPrimitives.ReadUInt32BigEndian(payload);
            case MessagePackCode.UInt64:
                ulong unsigned = BinaryPrimitives.ReadUInt64BigEndian(payload);
                return unsigned <= long.MaxValue ? (long)unsigned : throw Malformed(message, new OverflowException().Message);
            case MessagePackCode.Int8: return (sbyte)payload[0];
            case MessagePackCode.Int16: return BinaryPrimitives.ReadInt16BigEndian(payload);
            case MessagePackCode.Int32: return BinaryPrimitives.ReadInt32BigEndian(payload);
            case MessagePackCode.Int64: return BinaryPrimitives.ReadInt64BigEndian(payload);
            default: return (sbyte)code; // a positive or negative fixint
        }
    }

    /// <summary>Reads a number as <see cref="MessagePackReader.ReadDouble"/> does, converting the same way.</summary>
    private double ReadNumber(MessageDescriptor message)
    {
        byte code = _data[_position];
        ReadOnlySpan<byte> payload = TakePayload(code, message);
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
    private float ReadSingleNumber(MessageDescriptor message)
    {
        byte code = _data[_position];
        ReadOnlySpan<byte> payload = TakePayload(code, message);
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
    private ReadOnlySpan<byte> TakePayload(byte code, MessageDescriptor? message)
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
            throw EndOfData(message);
        }

        ReadOnlySpan<byte> payload = _data.Slice(_position + 1, size);
        _position += 1 + size;
        return payload;
    }

    /// <summary>Reads a str8/16/32 or bin8/16/32 length after its code, as an <see cref="int"/> (a 32-bit length of 2^31 or more is negative, as MessagePackReader has it).</summary>
    private int ReadLength(byte code, MessageDescriptor message)
    {
        int size = code switch
        {
            MessagePackCode.Str8 or MessagePackCode.Bin8 => 1,
            MessagePackCode.Str16 or MessagePackCode.Bin16 => 2,
            _ => 4,
        };

        if (size > Remaining - 1)
        {
            throw EndOfData(message);
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

    /// <summary>Reads bin8/16/32 data with <see cref="MessagePackReader.ReadBytes"/>'s checks: the length is checked against the bytes present first.</summary>
    private ReadOnlySpan<byte> ReadBinary(byte code, MessageDescriptor message)
    {
        int length = ReadLength(code, message);
        if (length > Remaining)
        {
            throw EndOfData(message);
        }

        if (length < 0)
        {
            // MessagePackReader takes a bin32 length of 2^31 or more as negative and fails slicing with it.
            throw Malformed(message, new ArgumentOutOfRangeException(nameof(length)).Message);
        }

        ReadOnlySpan<byte> bytes = _data.Slice(_position, length);
        _position += length;
        return bytes;
    }

    /// <summary>Reads an array header with <see cref="MessagePackReader.ReadArrayHeader"/>'s checks: at least one byte must remain per item.</summary>
    private int ReadArrayHeader(byte code, MessageDescriptor? message)
    {
        int count;
        if (code == MessagePackCode.Array16 || code == MessagePackCode.Array32)
        {
            int size = code == MessagePackCode.Array16 ? 2 : 4;
            if (size > Remaining - 1)
            {
                throw EndOfData(message);
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

        // An array32 count of 2^31 or more fails this check too, as it does in MessagePackReader.
        if ((uint)count > (uint)Remaining)
        {
            throw EndOfData(message);
        }

        return count;
    }

    private readonly byte PeekCode(MessageDescriptor? message) =>
        _position < _data.Length ? _data[_position] : throw EndOfData(message);

    private static bool IsInteger(byte code) =>
        code <= MessagePackCode.MaxFixInt || code >= MessagePackCode.MinNegativeFixInt || (uint)(code - MessagePackCode.UInt8) <= MessagePackCode.Int64 - MessagePackCode.UInt8;

    private static bool IsNumber(byte code) => IsInteger(code) || code is MessagePackCode.Float32 or MessagePackCode.Float64;

    private static bool IsBinary(byte code) => code is MessagePackCode.Bin8 or MessagePackCode.Bin16 or MessagePackCode.Bin32;

    private static bool IsArray(byte code) =>
        (uint)(code - MessagePackCode.MinFixArray) <= MessagePackCode.MaxFixArray - MessagePackCode.MinFixArray
        || code is MessagePackCode.Array16 or MessagePackCode.Array32;

    private static ProtocolException EndOfData(MessageDescriptor? message) => Malformed(message, new EndOfStreamException().Message);

    /// <summary>The error for a MessagePack-level failure, worded as <see cref="MessageSerializer"/> words the MessagePackReader path's.</summary>
    internal static ProtocolException Malformed(MessageDescriptor? message, string problem) =>
        new($"Malformed {(message is null ? "message" : message.Name + " message")}: {problem}", message?.Name);

    private static ProtocolException Mismatch(byte code, MessageDescriptor message, int argument) =>
        Invalid(message, argument, $"must be {message.Arguments[argument].TypeKeyword}, but the data holds {Describe(code)}");

    private static ProtocolException Invalid(MessageDescriptor message, int argument, string problem) =>
        new($"Malformed {message.Name} message: argument '{message.Arguments[argument].Name}' {problem}.", message.Name);

    private static string Describe(byte code) => WireFormat.Describe(MessagePackCode.ToMessagePackType(code));
}
