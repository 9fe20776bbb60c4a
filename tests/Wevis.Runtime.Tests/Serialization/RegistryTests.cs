using Example;
using MessagePack;
using Wevis.Runtime.Tests.Messages;

namespace Wevis.Runtime.Tests.Serialization;

/// <summary>The registry: found without reflection, stable ids, a fingerprint that changes with the definitions.</summary>
public class RegistryTests
{
    private sealed class FakeDescriptor(string name, int wireId) : MessageDescriptor(name, wireId, typeof(FakeDescriptor), [])
    {
        public override void Write(ref MessagePackWriter writer, IMessage message) => throw new NotSupportedException();

        public override IMessage ReadArguments(ref MessagePackReader reader) => throw new NotSupportedException();
    }

    [Fact]
    public void TheDefaultRegistryHoldsThisAssemblysMessagesWithoutReflection()
    {
        // The generated module initializer registered them when this assembly loaded.
        Assert.True(MessageRegistry.Default.TryGetByName("ItIs", out MessageDescriptor? itIs));
        Assert.Same(((IMessage)new ItIs(0, 0)).Descriptor, itIs);
        Assert.True(MessageRegistry.Default.TryGetByType(typeof(Move), out _));
        Assert.False(MessageRegistry.Default.TryGetByName("_Ping", out _));
    }

    [Fact]
    public void WireIdsAreTheFnv1aHashOfTheName()
    {
        foreach (MessageDescriptor message in WevisRegistry.Messages.Messages)
        {
            Assert.Equal(Fnv1a(message.Name), message.WireId);
            Assert.True(WevisRegistry.Messages.TryGetByWireId(message.WireId, out MessageDescriptor? found));
            Assert.Same(message, found);
        }
    }

    [Fact]
    public void TheFingerprintDependsOnTheDefinitionsNotTheirOrder()
    {
        MessageDescriptor[] messages = [.. WevisRegistry.Messages.Messages];
        var forward = new MessageRegistry(messages);
        var backward = new MessageRegistry(messages.Reverse());
        var fewer = new MessageRegistry(messages.Skip(1));

        Assert.Equal(forward.Fingerprint, backward.Fingerprint);
        Assert.Matches("^[0-9a-f]{32}@2$", forward.Fingerprint); // lobby.wevis declares @version 2
        Assert.NotEqual(forward.Fingerprint, fewer.Fingerprint);
        Assert.Equal(WevisRegistry.Messages.Fingerprint, forward.Fingerprint);
    }

    [Fact]
    public void TheFingerprintTextIsTheDocumentedOne()
    {
        var registry = new MessageRegistry([((IMessage)new ItIs(0, 0)).Descriptor, ((IMessage)new WhoAmI()).Descriptor]);

        Assert.Equal("ItIs Hours=int Minutes=int\nWhoAmI", MessageRegistry.FingerprintText(registry.Messages));
        byte[] hash = System.Security.Cryptography.SHA256.HashData("ItIs Hours=int Minutes=int\nWhoAmI"u8);
        Assert.Equal(Convert.ToHexStringLower(hash)[..32], registry.Fingerprint);
    }

    [Fact]
    public void TheFingerprintTextGivesDirectionsBoundsRepliesAndTheVersion()
    {
        var registry = new MessageRegistry(
            new IMessage[] { new Lobby.Heartbeat(0), new Lobby.Join("x"), new Lobby.Joined("x", 1), new Lobby.RoomFull("x") }.Select(m => m.Descriptor));
        const string Text = "Heartbeat Sent=long\n"
            + "client: Join Room=str(32) -> Joined | RoomFull\n"
            + "server: Joined Room=str(32) Players=int\n"
            + "server: RoomFull Room=str(32)";

        Assert.Equal(Text, MessageRegistry.FingerprintText(registry.Messages));
        byte[] hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Text));
        Assert.Equal(Convert.ToHexStringLower(hash)[..32] + "@2", registry.Fingerprint);
        Assert.Equal(2, registry.DefinitionsVersion);
        Assert.Equal(2, MessageRegistry.VersionOf(registry.Fingerprint));
        Assert.Equal(0, MessageRegistry.VersionOf(Convert.ToHexStringLower(hash)[..32]));
        Assert.Equal("client: Join room=str(32) -> Joined | RoomFull", registry.Messages[1].Definition);
    }

    [Fact]
    public void TheProtocolFilesVersionIsTheWireProtocolsVersion()
    {
        // protocol.wevis.lock guards the protocol's own messages: a breaking change must raise protocol.wevis's
        // @version, which is the version a client checks in the welcome.
        Assert.Equal(Wevis.Protocol.WireProtocol.Version, Wevis.WevisRegistry.Messages.DefinitionsVersion);
    }

    [Fact]
    public void TwoTypesWithOneNameCannotShareARegistry()
    {
        var clash = new FakeDescriptor("ItIs", 1);

        InvalidOperationException ex = Assert.Throws<InvalidOperationException>(
            () => MessageRegistry.Combine(WevisRegistry.Messages, new MessageRegistry([clash])));
        Assert.Contains("Message 'ItIs' is defined twice", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TwoNamesWithOneWireIdCannotShareARegistry()
    {
        InvalidOperationException ex = Assert.Throws<InvalidOperationException>(
            () => new MessageRegistry([new FakeDescriptor("A", 7), new FakeDescriptor("B", 7)]));
        Assert.Contains("same wire id 7", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CombiningARegistryWithItselfChangesNothing()
    {
        MessageRegistry twice = MessageRegistry.Combine(WevisRegistry.Messages, WevisRegistry.Messages);
        Assert.Equal(WevisRegistry.Messages.Fingerprint, twice.Fingerprint);
    }

    [Fact]
    public void TheProtocolsOwnMessagesAreGeneratedByTheSameGenerator()
    {
        Assert.All(Wevis.WevisRegistry.Messages.Messages, m => Assert.True(m.IsProtocolMessage));
        Assert.Equal(
            ["_Ack", "_Closing", "_CreateRoom", "_Failed", "_Hello", "_JoinOrCreateRoom", "_JoinRefused", "_JoinRoom", "_LeaveRoom", "_Login", "_LoginAccepted", "_LoginRejected", "_Ping", "_Pong", "_Resume", "_Resumed", "_RoomChanged", "_Welcome"],
            Wevis.WevisRegistry.Messages.Messages.Select(m => m.Name));
    }

    private static int Fnv1a(string name)
    {
        uint hash = 2166136261;
        foreach (byte b in System.Text.Encoding.UTF8.GetBytes(name))
        {
            hash = (hash ^ b) * 16777619;
        }

        return (int)(hash & 0x7FFFFFFF);
    }
}
