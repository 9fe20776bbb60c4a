using MessagePack;
using Wevis.Serialization;

namespace Wevis.Cli.Definitions;

/// <summary>
/// A message type read from a <c>.wevis</c> file at run time rather than generated at build time. It writes and reads
/// bodies exactly as a generated descriptor does (the array header, the wire id, then each argument with the
/// runtime's own <see cref="WireFormat"/> and <see cref="WireReader"/>), so a server built from the same definitions
/// cannot tell the two apart; the wire ids and the fingerprint are the generator's (the tests compare them). Bounded
/// arguments (<c>text=str(32)</c>) are checked with <see cref="ArgumentBounds"/> where the generated code checks them:
/// all of them before anything is written, and each from its header before it is read.
/// </summary>
internal sealed class DynamicMessageDescriptor : MessageDescriptor
{
    private readonly Dictionary<string, int> _indexes;

    public DynamicMessageDescriptor(string name, int wireId, MessageArgument[] arguments, MessageDirection direction = MessageDirection.Both, string[]? replies = null, int definitionsVersion = 0)
        : base(name, wireId, typeof(DynamicMessage), arguments, direction, replies ?? [], definitionsVersion)
    {
        _indexes = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < arguments.Length; i++)
        {
            _indexes[arguments[i].Name] = i;
            _indexes.TryAdd(arguments[i].PropertyName, i);
        }
    }

    /// <summary>The index of the argument named <paramref name="name"/> (as defined, or as its C# property); -1 if none.</summary>
    public int IndexOf(string name) => _indexes.GetValueOrDefault(name, -1);

    /// <summary>Throws unless argument <paramref name="index"/>, holding <paramref name="value"/>, is within its bound (if it has one).</summary>
    /// <exception cref="ArgumentTooLargeException">It holds more than its bound allows.</exception>
    public void CheckBound(int index, object value)
    {
        if (Arguments[index].Bound is not int bound)
        {
            return;
        }

        if (Arguments[index].Type == ArgumentType.String)
        {
            ArgumentBounds.CheckString((string)value, bound, this, index);
        }
        else
        {
            ArgumentBounds.CheckArray((Array)value, bound, this, index);
        }
    }

    /// <exception cref="ArgumentTooLargeException">An argument is over its bound; nothing was written.</exception>
    public override void Write(ref MessagePackWriter writer, IMessage message)
    {
        var dynamic = (DynamicMessage)message;

        // Checked before anything is written, as a generated formatter does, so the output is left as it was.
        for (int i = 0; i < Arguments.Count; i++)
        {
            CheckBound(i, dynamic.Values[i]);
        }

        writer.WriteArrayHeader(Arguments.Count + 1);
        writer.Write(WireId);
        for (int i = 0; i < Arguments.Count; i++)
        {
            object value = dynamic.Values[i];
            switch (Arguments[i].Type)
            {
                case ArgumentType.Int32:
                    writer.Write((int)value);
                    break;
                case ArgumentType.Int64:
                    writer.Write((long)value);
                    break;
                case ArgumentType.Double:
                    writer.Write((double)value);
                    break;
                case ArgumentType.Boolean:
                    writer.Write((bool)value);
                    break;
                case ArgumentType.String:
                    WireFormat.WriteString(ref writer, (string)value, this, i);
                    break;
                case ArgumentType.Bytes:
                    WireFormat.WriteBytes(ref writer, (byte[])value, this, i);
                    break;
                case ArgumentType.SingleArray:
                    WireFormat.WriteSingleArray(ref writer, (float[])value, this, i);
                    break;
                default:
                    WireFormat.WriteDoubleArray(ref writer, (double[])value, this, i);
                    break;
            }
        }
    }

    public override IMessage ReadArguments(ref MessagePackReader reader)
    {
        object[] values = new object[Arguments.Count];
        for (int i = 0; i < values.Length; i++)
        {
            if (Arguments[i].Bound is int bound)
            {
                ArgumentBounds.CheckNext(ref reader, bound, this, i);
            }

            values[i] = Arguments[i].Type switch
            {
                ArgumentType.Int32 => WireFormat.ReadInt32(ref reader, this, i),
                ArgumentType.Int64 => WireFormat.ReadInt64(ref reader, this, i),
                ArgumentType.Double => WireFormat.ReadDouble(ref reader, this, i),
                ArgumentType.Boolean => WireFormat.ReadBoolean(ref reader, this, i),
                ArgumentType.String => WireFormat.ReadString(ref reader, this, i),
                ArgumentType.Bytes => WireFormat.ReadBytes(ref reader, this, i),
                ArgumentType.SingleArray => WireFormat.ReadSingleArray(ref reader, this, i),
                _ => WireFormat.ReadDoubleArray(ref reader, this, i),
            };
            CheckDecoded(i, values[i]);
        }

        return new DynamicMessage(this, values);
    }

    public override IMessage ReadArguments(ref WireReader reader)
    {
        object[] values = new object[Arguments.Count];
        for (int i = 0; i < values.Length; i++)
        {
            if (Arguments[i].Bound is int bound)
            {
                ArgumentBounds.CheckNext(reader.UnreadSpan, bound, this, i);
            }

            values[i] = Arguments[i].Type switch
            {
                ArgumentType.Int32 => reader.ReadInt32(this, i),
                ArgumentType.Int64 => reader.ReadInt64(this, i),
                ArgumentType.Double => reader.ReadDouble(this, i),
                ArgumentType.Boolean => reader.ReadBoolean(this, i),
                ArgumentType.String => reader.ReadString(this, i),
                ArgumentType.Bytes => reader.ReadBytes(this, i),
                ArgumentType.SingleArray => reader.ReadSingleArray(this, i),
                _ => reader.ReadDoubleArray(this, i),
            };
            CheckDecoded(i, values[i]);
        }

        return new DynamicMessage(this, values);
    }

    /// <summary>A bounded string read: invalid UTF-8 that decoded past its bound is refused, as generated code refuses it.</summary>
    private void CheckDecoded(int index, object value)
    {
        if (Arguments[index].Bound is int bound && value is string text)
        {
            ArgumentBounds.CheckDecoded(text, bound, this, index);
        }
    }
}
