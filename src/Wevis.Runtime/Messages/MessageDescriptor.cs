using System.Collections.ObjectModel;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using MessagePack;
using Wevis.Serialization;

namespace Wevis;

/// <summary>
/// Describes one message type (its name, wire id and arguments) and reads and writes its MessagePack body.
/// The generator writes one sealed subclass per message type, which is also that type's MessagePack formatter.
/// </summary>
/// <remarks>
/// A message body is a MessagePack array: the wire id, then each argument in definition order
/// (docs/protocol.md). <see cref="Write"/> writes all of it; <see cref="ReadArguments(ref WireReader)"/> reads what
/// follows the wire id, once the reader has found the type by its id. <see cref="ReadArguments(ref MessagePackReader)"/>
/// does the same from a <see cref="MessagePackReader"/>, for bodies not in one contiguous span and for MessagePack-CSharp.
/// </remarks>
public abstract class MessageDescriptor
{
    /// <summary>Creates the descriptor of one message type; called by generated code.</summary>
    /// <param name="name">The message's name as defined.</param>
    /// <param name="wireId">The message's wire id (FNV-1a of the name; see docs/protocol.md).</param>
    /// <param name="messageType">The record type that holds the message.</param>
    /// <param name="arguments">The arguments, in definition order.</param>
    protected MessageDescriptor(string name, int wireId, Type messageType, MessageArgument[] arguments)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(messageType);
        ArgumentNullException.ThrowIfNull(arguments);
        Name = name;
        WireId = wireId;
        MessageType = messageType;
        Arguments = new ReadOnlyCollection<MessageArgument>((MessageArgument[])arguments.Clone());
        ArgumentCount = arguments.Length;
        Definition = arguments.Length == 0 ? name : name + " " + string.Join(' ', arguments.Select(a => a.ToString()));
        IsProtocolMessage = name.StartsWith('_');
        MaxBodySize = MaxFixedBodySize(arguments);
    }

    /// <summary>The message's name as defined, which is also its name on the wire (<c>ItIs</c>).</summary>
    public string Name { get; }

    /// <summary>The number that identifies this message type on the wire.</summary>
    public int WireId { get; }

    /// <summary>The record type that holds this message.</summary>
    public Type MessageType { get; }

    /// <summary>The arguments, in definition order.</summary>
    public IReadOnlyList<MessageArgument> Arguments { get; }

    /// <summary>The number of arguments, kept apart from <see cref="Arguments"/> so that reading does not go through an interface.</summary>
    internal int ArgumentCount { get; }

    /// <summary>The definition as a definitions-file line: <c>ItIs hours=int minutes=int</c>.</summary>
    public string Definition { get; }

    /// <summary>Whether this is one of the Wevis protocol's own messages (a name starting with '_').</summary>
    public bool IsProtocolMessage { get; }

    /// <summary>
    /// The most bytes a body of this type can take, when every argument has a fixed size (<c>int</c>, <c>long</c>,
    /// <c>float</c>, <c>bool</c>); <see cref="int.MaxValue"/> when one has not. Lets a sender encode straight into
    /// its output, knowing the frame cannot go over the limit.
    /// </summary>
    internal int MaxBodySize { get; }

    /// <summary>Writes <paramref name="message"/>'s whole body: the array header, the wire id and every argument.</summary>
    /// <exception cref="InvalidCastException"><paramref name="message"/> is not of this descriptor's type.</exception>
    /// <exception cref="ArgumentNullException">A reference-typed argument is null (possible only in a <c>[WevisMessage]</c> record).</exception>
    public abstract void Write(ref MessagePackWriter writer, IMessage message);

    /// <summary>
    /// Reads the arguments that follow the wire id and builds the message. The caller has already read the
    /// array header, checked that it holds <c>1 + Arguments.Count</c> items, and read the wire id.
    /// </summary>
    /// <exception cref="ProtocolException">The data is not this message's arguments.</exception>
    public abstract IMessage ReadArguments(ref MessagePackReader reader);

    /// <summary>
    /// Reads the arguments that follow the wire id from a span and builds the message: the fast path of
    /// <see cref="MessageSerializer.Read(ReadOnlySpan{byte}, MessageRegistry)"/>. The caller has already read the
    /// array header, checked that it holds <c>1 + Arguments.Count</c> items, and read the wire id. Generated
    /// descriptors override it; this implementation, for descriptors written by hand, copies the rest of the
    /// body and reads it with <see cref="ReadArguments(ref MessagePackReader)"/>.
    /// </summary>
    /// <exception cref="ProtocolException">The data is not this message's arguments.</exception>
    public virtual IMessage ReadArguments(ref WireReader reader)
    {
        var messagePackReader = new MessagePackReader(reader.UnreadSpan.ToArray());
        IMessage message;
        try
        {
            message = ReadArguments(ref messagePackReader);
        }
        catch (Exception ex) when (MessageSerializer.IsMessagePackFailure(ex))
        {
            throw ExplainArguments(reader.UnreadSpan, ex);
        }

        reader.Advance((int)messagePackReader.Consumed);
        return message;
    }

    /// <summary>
    /// Why <see cref="ReadArguments(ref MessagePackReader)"/> of a descriptor written by hand refused
    /// <paramref name="arguments"/> with one of MessagePackReader's exceptions, in Wevis's words: the arguments are
    /// read again as <see cref="Arguments"/> defines them, which names the first one that is wrong.
    /// </summary>
    private ProtocolException ExplainArguments(ReadOnlySpan<byte> arguments, Exception failure)
    {
        var reader = new WireReader(arguments);
        try
        {
            for (int i = 0; i < ArgumentCount; i++)
            {
                _ = Arguments[i].Type switch
                {
                    ArgumentType.Int32 => reader.ReadInt32(this, i),
                    ArgumentType.Int64 => reader.ReadInt64(this, i),
                    ArgumentType.Double => reader.ReadDouble(this, i),
                    ArgumentType.Boolean => reader.ReadBoolean(this, i),
                    ArgumentType.String => reader.ReadString(this, i),
                    ArgumentType.Bytes => reader.ReadBytes(this, i),
                    ArgumentType.SingleArray => reader.ReadSingleArray(this, i),
                    _ => (object)reader.ReadDoubleArray(this, i),
                };
            }
        }
        catch (ProtocolException reason)
        {
            return new ProtocolException(reason.Message, Name, failure);
        }

        return new ProtocolException(
            $"Malformed {Name} message: its hand-written reader refused it ({failure.GetType().Name}), although the data matches its definition ({Definition}).",
            Name,
            failure);
    }

    /// <summary>
    /// Whether a message type without arguments holds no state at all (no instance fields), so that one instance
    /// can stand for every message of the type that is read. Generated descriptors ask once per type: records are
    /// <c>partial</c> and their users may add members, and a record given a field (a time stamp set when it is
    /// made, say) must get a new instance per read.
    /// </summary>
    protected static bool HoldsNoState(
        [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicFields | DynamicallyAccessedMemberTypes.NonPublicFields)] Type messageType)
    {
        ArgumentNullException.ThrowIfNull(messageType);
        return messageType.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic).Length == 0;
    }

    /// <summary>Reads and checks the array header and wire id of a body of this type, before its arguments.</summary>
    /// <exception cref="ProtocolException">The header is not this message type's.</exception>
    protected void ReadHeader(ref MessagePackReader reader)
    {
        int count = Serialization.WireFormat.ReadBodyHeader(ref reader);
        int wireId = Serialization.WireFormat.ReadWireId(ref reader);
        if (wireId != WireId)
        {
            throw new ProtocolException($"Expected a {Name} message (wire id {WireId}) but found wire id {wireId}.");
        }

        CheckArgumentCount(count - 1);
    }

    /// <summary>Throws unless <paramref name="count"/> is this message type's number of arguments.</summary>
    /// <exception cref="ProtocolException">The count is wrong.</exception>
    public void CheckArgumentCount(int count)
    {
        if (count != ArgumentCount)
        {
            throw new ProtocolException(
                $"A {Name} message has {ArgumentCount} argument(s) ({Definition}) but the data holds {count}.",
                Name);
        }
    }

    /// <inheritdoc/>
    public override string ToString() => Definition;

    private static int MaxFixedBodySize(MessageArgument[] arguments)
    {
        // Array header (fixarray up to 15 items, else array16), the wire id as int32 (at most 5 bytes), then each argument.
        if (arguments.Length + 1 > ushort.MaxValue)
        {
            return int.MaxValue;
        }

        int size = (arguments.Length + 1 <= 15 ? 1 : 3) + 5;
        foreach (MessageArgument argument in arguments)
        {
            switch (argument.Type)
            {
                case ArgumentType.Int32:
                    size += 5;
                    break;
                case ArgumentType.Int64:
                case ArgumentType.Double:
                    size += 9;
                    break;
                case ArgumentType.Boolean:
                    size += 1;
                    break;
                default:
                    return int.MaxValue;
            }
        }

        return size;
    }
}
