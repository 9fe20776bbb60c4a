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
    /// <summary>Creates the descriptor of a message type sent either way, without replies: as before directions existed.</summary>
    /// <param name="name">The message's name as defined.</param>
    /// <param name="wireId">The message's wire id (FNV-1a of the name; see docs/protocol.md).</param>
    /// <param name="messageType">The record type that holds the message.</param>
    /// <param name="arguments">The arguments, in definition order.</param>
    protected MessageDescriptor(string name, int wireId, Type messageType, MessageArgument[] arguments)
        : this(name, wireId, messageType, arguments, MessageDirection.Both, [], 0)
    {
    }

    /// <summary>Creates the descriptor of one message type; called by generated code.</summary>
    /// <param name="name">The message's name as defined.</param>
    /// <param name="wireId">The message's wire id (FNV-1a of the name; see docs/protocol.md).</param>
    /// <param name="messageType">The record type that holds the message.</param>
    /// <param name="arguments">The arguments, in definition order.</param>
    /// <param name="direction">Who may send it.</param>
    /// <param name="replies">The names of the messages that answer it, if it is a request; else empty.</param>
    /// <param name="definitionsVersion">The <c>@version</c> of the definitions file it is in, or 0 if it declares none.</param>
    protected MessageDescriptor(
        string name, int wireId, Type messageType, MessageArgument[] arguments, MessageDirection direction, string[] replies, int definitionsVersion)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(messageType);
        ArgumentNullException.ThrowIfNull(arguments);
        ArgumentNullException.ThrowIfNull(replies);
        ArgumentOutOfRangeException.ThrowIfNegative(definitionsVersion);
        if (direction is not (MessageDirection.ClientToServer or MessageDirection.ServerToClient or MessageDirection.Both))
        {
            throw new ArgumentOutOfRangeException(nameof(direction), direction, "A message is sent by clients, by the server, or both.");
        }

        Name = name;
        WireId = wireId;
        MessageType = messageType;
        Arguments = new ReadOnlyCollection<MessageArgument>((MessageArgument[])arguments.Clone());
        ArgumentCount = arguments.Length;
        Direction = direction;
        Replies = new ReadOnlyCollection<string>((string[])replies.Clone());
        DefinitionsVersion = definitionsVersion;
        Definition = DefinitionText(name, arguments, direction, replies);
        IsProtocolMessage = name.StartsWith('_');
        MaxBodySize = MaxFixedBodySize(arguments);
        BodySizeBound = MaxReceivedBodySize(arguments);
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

    /// <summary>
    /// The definition as a definitions-file line, with its direction, bounds and replies:
    /// <c>ItIs hours=int minutes=int</c>, <c>client: Join room=str(32) -&gt; Joined | Full</c>.
    /// </summary>
    public string Definition { get; }

    /// <summary>Who may send it: clients, the server, or both.</summary>
    public MessageDirection Direction { get; }

    /// <summary>The names of the messages that answer this one, if it is a request (<c>-&gt; YouAre</c>); else empty.</summary>
    public IReadOnlyList<string> Replies { get; }

    /// <summary>Whether this is a request, answered by one of <see cref="Replies"/>.</summary>
    public bool IsRequest => Replies.Count > 0;

    /// <summary>The <c>@version</c> of the definitions file it is in, or 0 if that declares none.</summary>
    public int DefinitionsVersion { get; }

    /// <summary>
    /// The most bytes a valid body of this type can take on the wire, from its argument types and bounds, allowing
    /// for every encoding a reader accepts; <see cref="int.MaxValue"/> when an argument has no bound. A receiver
    /// refuses a longer frame of this type as soon as the frame's start has arrived, without waiting for the rest.
    /// </summary>
    public int BodySizeBound { get; }

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

    /// <summary>
    /// The room's view of a request of this type that arrived with id <paramref name="requestId"/>: a
    /// <see cref="Request{TRequest}"/>. Generated descriptors of requests override it (with <see cref="MakeRequest"/>);
    /// for other messages it is null.
    /// </summary>
    protected virtual IncomingRequest? NewRequest(int requestId, IMessage message) => null;

    /// <summary>Makes a <see cref="Request{TRequest}"/>, for <see cref="NewRequest"/>.</summary>
    protected static Request<TRequest> MakeRequest<TRequest>(int requestId, TRequest message)
        where TRequest : class, IRequest => new(requestId, message);

    /// <summary>The room's view of a request of this type.</summary>
    /// <exception cref="ProtocolException">This type is not a request.</exception>
    internal IncomingRequest CreateRequest(int requestId, IMessage message) =>
        NewRequest(requestId, message)
        ?? throw new ProtocolException($"{Name} was sent as a request, but it is not one: its definition names no replies ({Definition}).", Name);

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

    /// <summary>The definitions-file line: <c>[client: |server: ]Name arg=type(bound) … [-&gt; Reply | Reply]</c>.</summary>
    private static string DefinitionText(string name, MessageArgument[] arguments, MessageDirection direction, string[] replies)
    {
        var text = new System.Text.StringBuilder();
        text.Append(direction switch
        {
            MessageDirection.ClientToServer => "client: ",
            MessageDirection.ServerToClient => "server: ",
            _ => string.Empty,
        });
        text.Append(name);
        foreach (MessageArgument argument in arguments)
        {
            text.Append(' ').Append(argument);
        }

        if (replies.Length > 0)
        {
            text.Append(" -> ").AppendJoin(" | ", replies);
        }

        return text.ToString();
    }

    /// <summary>
    /// The bound on a received body: the array header (at most 5 bytes), the wire id and every number in their
    /// longest encodings (9 bytes), a bounded <c>str</c> or <c>bytes</c> as its header and bytes, a bounded <c>?f</c>
    /// or <c>?d</c> in its longer form, an array of 9-byte numbers.
    /// </summary>
    private static int MaxReceivedBodySize(MessageArgument[] arguments)
    {
        long size = 5 + 9;
        foreach (MessageArgument argument in arguments)
        {
            long bound = argument.Bound ?? int.MaxValue;
            size += argument.Type switch
            {
                ArgumentType.Boolean => 1,
                ArgumentType.Int32 or ArgumentType.Int64 or ArgumentType.Double => 9,
                ArgumentType.String or ArgumentType.Bytes => 5 + bound,
                _ => 5 + (9 * bound),
            };
        }

        return (int)Math.Min(size, int.MaxValue);
    }

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
