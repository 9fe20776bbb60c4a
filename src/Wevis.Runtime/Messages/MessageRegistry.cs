using System.Collections.Frozen;
using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace Wevis;

/// <summary>
/// A set of message types, found by wire id or by type, with a fingerprint of their definitions. The generator
/// writes one per assembly (<c>WevisRegistry.Messages</c>); servers and clients use <see cref="Default"/>, the
/// union of every assembly's, unless given another.
/// </summary>
/// <remarks>
/// Two programs whose registries have the same <see cref="Fingerprint"/> agree on every message's name, wire
/// id, arguments and types. The login handshake compares fingerprints and refuses a peer whose differ.
/// </remarks>
public sealed class MessageRegistry
{
    private static readonly Lock s_registrationLock = new();
    private static List<MessageRegistry> s_registered = [];
    private static MessageRegistry? s_default;

    private readonly WireIdTable _byWireId;
    private readonly FrozenDictionary<Type, MessageDescriptor> _byType;
    private readonly FrozenDictionary<string, MessageDescriptor> _byName;
    private string? _fingerprint;

    /// <summary>Creates a registry of the given message types.</summary>
    /// <exception cref="InvalidOperationException">Two different types share a name or a wire id.</exception>
    public MessageRegistry(IEnumerable<MessageDescriptor> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var byName = new Dictionary<string, MessageDescriptor>(StringComparer.Ordinal);
        var byWireId = new Dictionary<int, MessageDescriptor>();
        foreach (MessageDescriptor message in messages)
        {
            ArgumentNullException.ThrowIfNull(message, nameof(messages));
            if (byName.TryGetValue(message.Name, out MessageDescriptor? sameName))
            {
                if (ReferenceEquals(sameName, message))
                {
                    continue;
                }

                throw new InvalidOperationException(
                    $"Message '{message.Name}' is defined twice: as {Describe(sameName)} and as {Describe(message)}. "
                    + "Define each message in one assembly and reference it from the others.");
            }

            if (message.WireId is EnvelopeWireIds.Request or EnvelopeWireIds.Reply)
            {
                throw new InvalidOperationException(
                    $"Message '{message.Name}' ({Describe(message)}) has the wire id {message.WireId}, which the protocol's request and reply envelopes use; rename it.");
            }

            if (byWireId.TryGetValue(message.WireId, out MessageDescriptor? sameId))
            {
                throw new InvalidOperationException(
                    $"Messages '{sameId.Name}' ({Describe(sameId)}) and '{message.Name}' ({Describe(message)}) have the same wire id {message.WireId}; rename one.");
            }

            byName.Add(message.Name, message);
            byWireId.Add(message.WireId, message);
        }

        Messages = byName.Values.OrderBy(m => m.Name, StringComparer.Ordinal).ToArray();
        _byName = byName.ToFrozenDictionary(StringComparer.Ordinal);
        _byWireId = new WireIdTable(byWireId.Values);
        // Descriptors may share a type (messages read from definitions at run time, as the wevis tool does): those
        // are found by name or wire id, not by type.
        _byType = byName.Values.GroupBy(m => m.MessageType).Where(g => g.Count() == 1).ToFrozenDictionary(g => g.Key, g => g.First());
    }

    /// <summary>A registry with no message types.</summary>
    public static MessageRegistry Empty { get; } = new([]);

    /// <summary>
    /// Every message type of every loaded assembly that defines messages: each generated registry adds itself
    /// when its assembly is loaded. A referenced assembly loads when first used, so a program whose messages
    /// live in a library it has not touched yet should pass that library's <c>WevisRegistry.Messages</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">Two assemblies define the same message name or wire id differently.</exception>
    public static MessageRegistry Default
    {
        get
        {
            MessageRegistry? current = Volatile.Read(ref s_default);
            if (current is not null)
            {
                return current;
            }

            lock (s_registrationLock)
            {
                return s_default ??= Combine(s_registered);
            }
        }
    }

    /// <summary>The message types, ordered by name.</summary>
    public IReadOnlyList<MessageDescriptor> Messages { get; }

    /// <summary>
    /// A digest of every message's direction, name, argument names, types and bounds, in order, and replies: the
    /// first 16 bytes of SHA-256, in lowercase hex, followed by <c>@</c> and <see cref="DefinitionsVersion"/> when that
    /// is not 0. Equal fingerprints mean the same definitions (docs/protocol.md gives the exact text hashed).
    /// </summary>
    public string Fingerprint => _fingerprint ??= ComputeFingerprint(Messages);

    /// <summary>
    /// The highest <c>@version</c> of the definitions files these messages come from, or 0 if none declares one. It
    /// ends the <see cref="Fingerprint"/>, so that a server can tell an older client to upgrade.
    /// </summary>
    public int DefinitionsVersion => Messages.Count == 0 ? 0 : Messages.Max(m => m.DefinitionsVersion);

    /// <summary>The definitions version a fingerprint ends with (<c>…@3</c>), or 0 if it has none.</summary>
    public static int VersionOf(string fingerprint)
    {
        ArgumentNullException.ThrowIfNull(fingerprint);
        int at = fingerprint.LastIndexOf('@');
        return at >= 0 && int.TryParse(fingerprint.AsSpan(at + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int version)
            ? version
            : 0;
    }

    /// <summary>Adds an assembly's registry to <see cref="Default"/>. Called by generated module initializers.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static void Register(MessageRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        lock (s_registrationLock)
        {
            if (s_registered.Contains(registry))
            {
                return;
            }

            s_registered = [.. s_registered, registry];
            s_default = null;
        }
    }

    /// <summary>The union of several registries.</summary>
    /// <exception cref="InvalidOperationException">Two registries define the same message name or wire id differently.</exception>
    public static MessageRegistry Combine(IEnumerable<MessageRegistry> registries)
    {
        ArgumentNullException.ThrowIfNull(registries);
        return new MessageRegistry(registries.SelectMany(r => r.Messages));
    }

    /// <summary>The union of several registries.</summary>
    /// <exception cref="InvalidOperationException">Two registries define the same message name or wire id differently.</exception>
    public static MessageRegistry Combine(params MessageRegistry[] registries) => Combine((IEnumerable<MessageRegistry>)registries);

    /// <summary>Finds a message type by its wire id.</summary>
    public bool TryGetByWireId(int wireId, [NotNullWhen(true)] out MessageDescriptor? descriptor) =>
        _byWireId.TryGet(wireId, out descriptor);

    /// <summary>Finds a message type by its name as defined.</summary>
    public bool TryGetByName(string name, [NotNullWhen(true)] out MessageDescriptor? descriptor) =>
        _byName.TryGetValue(name, out descriptor);

    /// <summary>Finds a message type by the record type that holds it (types that hold several message types, as a tool's run-time messages do, are not found).</summary>
    public bool TryGetByType(Type messageType, [NotNullWhen(true)] out MessageDescriptor? descriptor) =>
        _byType.TryGetValue(messageType, out descriptor);

    /// <summary>Whether this registry holds exactly this message type (not merely one of the same name).</summary>
    public bool Contains(MessageDescriptor descriptor) =>
        _byWireId.TryGet(descriptor.WireId, out MessageDescriptor? found) && ReferenceEquals(found, descriptor);

    /// <summary>
    /// The text whose hash is the fingerprint: one line per message, sorted,
    /// <c>[client: |server: ]Name Property=type(bound) … [-&gt; Reply | Reply]</c>, where the direction, the bounds and
    /// the replies appear only when defined (so definitions without them hash as they always did).
    /// </summary>
    public static string FingerprintText(IEnumerable<MessageDescriptor> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        IEnumerable<string> lines = messages.Select(FingerprintLine).Order(StringComparer.Ordinal);
        return string.Join('\n', lines);
    }

    private static string FingerprintLine(MessageDescriptor message)
    {
        string direction = message.Direction switch
        {
            MessageDirection.ClientToServer => "client: ",
            MessageDirection.ServerToClient => "server: ",
            _ => string.Empty,
        };
        string arguments = string.Concat(message.Arguments.Select(a => " " + a.PropertyName + "=" + a.TypeText));
        string replies = message.Replies.Count == 0 ? string.Empty : " -> " + string.Join(" | ", message.Replies);
        return direction + message.Name + arguments + replies;
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Messages.Count} message type(s), fingerprint {Fingerprint}";

    private static string ComputeFingerprint(IReadOnlyList<MessageDescriptor> messages)
    {
        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(FingerprintText(messages)));
        string digest = Convert.ToHexStringLower(hash.AsSpan(0, 16));
        int version = messages.Count == 0 ? 0 : messages.Max(m => m.DefinitionsVersion);
        return version == 0 ? digest : digest + "@" + version.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string Describe(MessageDescriptor message) =>
        $"{message.MessageType.FullName} in {message.MessageType.Assembly.GetName().Name}";
}
