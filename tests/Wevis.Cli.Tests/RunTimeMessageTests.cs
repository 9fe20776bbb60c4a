using Example;
using Wevis.Cli.Definitions;
using Wevis.Cli.Tests.Messages;
using Wevis.Generator.Model;
using Wevis.Serialization;
using Wevis.Tests.Shared;
using MessageText = Wevis.Cli.Definitions.MessageText;

namespace Wevis.Cli.Tests;

/// <summary>
/// The tool's run-time message types, read from a .wevis file with the generator's parser, against the types the
/// generator makes from the same file: the same wire ids, arguments and fingerprint, and the same bytes both ways.
/// </summary>
public class RunTimeMessageTests
{
    private static readonly LoadedDefinitions Example = DefinitionsLoader.Load([Repository.PathOf("definitions/example.wevis")]);
    private static readonly LoadedDefinitions AllTypesFile = DefinitionsLoader.Load([Repository.PathOf("tests/Wevis.Cli.Tests/alltypes.wevis")]);

    /// <summary>The messages the generator made from example.wevis (this project's registry holds alltypes.wevis's too).</summary>
    internal static MessageRegistry GeneratedExample { get; } = new(WevisRegistry.Messages.Messages.Where(m => m.MessageType.Namespace == "Example"));

    [Fact]
    public void WireIdsArgumentsAndTheFingerprintAreTheGenerators()
    {
        MessageRegistry generated = GeneratedExample;
        Assert.Equal(7, generated.Messages.Count);
        Assert.Equal(generated.Messages.Select(m => m.Name), Example.Registry.Messages.Select(m => m.Name));
        foreach (MessageDescriptor expected in generated.Messages)
        {
            DynamicMessageDescriptor actual = Example.Find(expected.Name)!;
            Assert.Equal(expected.WireId, actual.WireId);
            Assert.Equal(expected.Arguments, actual.Arguments);
            Assert.Equal(expected.Definition, actual.Definition);
        }

        Assert.Equal(generated.Fingerprint, Example.Registry.Fingerprint);
        Assert.Equal(new MessageRegistry([((IMessage)new AllTypes(0, 0, 0, false, "", [], [], [])).Descriptor]).Fingerprint, AllTypesFile.Registry.Fingerprint);
    }

    [Theory]
    [InlineData("ItIs hours=13 minutes=37")]
    [InlineData("YouAre name=\"michael \\\"the\\\" tester\"")]
    [InlineData("SomeFloats singles=[0.5,-1,3.25] doubles=[]")]
    [InlineData("ServerReady")]
    public void TextBecomesTheBytesTheGeneratedRecordWritesAndReadsBackAsTheSameText(string text)
    {
        DynamicMessage dynamic = MessageText.Parse(text, Example);
        IMessage generated = text switch
        {
            "ServerReady" => new ServerReady(),
            _ when text.StartsWith("ItIs", StringComparison.Ordinal) => new ItIs(13, 37),
            _ when text.StartsWith("YouAre", StringComparison.Ordinal) => new YouAre("michael \"the\" tester"),
            _ => new SomeFloats([0.5f, -1f, 3.25f], []),
        };

        byte[] expected = MessageSerializer.ToBytes(generated);
        Assert.Equal(expected, MessageSerializer.ToBytes(dynamic));

        // What a generated sender writes, the tool reads back as the text it was typed as.
        var read = Assert.IsType<DynamicMessage>(MessageSerializer.Read(expected, Example.Registry));
        Assert.Equal(text, read.ToString());
    }

    [Fact]
    public void EveryArgumentTypeRoundTripsWithTheGeneratedRecord()
    {
        var generated = new AllTypes(-7, 1L << 40, 2.5, true, "héllo", [0, 255], [1.5f], [double.Epsilon, -0.0]);
        var dynamic = Assert.IsType<DynamicMessage>(MessageSerializer.Read(MessageSerializer.ToBytes(generated), AllTypesFile.Registry));
        Assert.Equal("AllTypes count=-7 total=1099511627776 ratio=2.5 flag=true label=\"héllo\" blob=0x00ff singles=[1.5] doubles=[5E-324,-0]", dynamic.ToString());
        Assert.Equal(MessageSerializer.ToBytes(generated), MessageSerializer.ToBytes(MessageText.Parse(dynamic.ToString(), AllTypesFile)));
        Assert.Equal(
            """{"message":"AllTypes","arguments":{"count":-7,"total":1099511627776,"ratio":2.5,"flag":true,"label":"h\u00E9llo","blob":"AP8=","singles":[1.5],"doubles":[5E-324,-0]}}""",
            MessageText.ToJson(dynamic));
    }

    [Theory]
    [InlineData("Itis hours=1 minutes=2", "'Itis' is not a message of example.wevis; the messages are: ItIs, PleaseMayIHaveSomeFloats, ServerReady, SomeFloats, WhatTimeIsIt, WhoAmI, YouAre.")]
    [InlineData("ItIs hours=1", "ItIs needs minutes=int (ItIs hours=1 minutes=1).")]
    [InlineData("ItIs hours=1 mins=2", "ItIs has no argument 'mins'; its arguments are hours=int minutes=int.")]
    [InlineData("ItIs hours=one minutes=2", "ItIs: hours=one is not an int (a whole number from -2147483648 to 2147483647).")]
    [InlineData("ItIs hours=1 hours=2 minutes=3", "ItIs: hours is given twice.")]
    [InlineData("YouAre name=\"open", "A quoted value is not closed: add the closing \".")]
    [InlineData("SomeFloats singles=1,2 doubles=[]", "SomeFloats: singles=1,2 is not a ?f (a list of numbers such as [0.5,1,2]).")]
    [InlineData("WhoAmI now", "WhoAmI: 'now' is not an argument; write name=value (WhoAmI).")]
    public void TextThatIsNotAMessageIsRefusedNamingTheMessageAndTheArgument(string text, string reason)
    {
        FormatException refused = Assert.Throws<FormatException>(() => MessageText.Parse(text, Example));
        Assert.Equal(reason, refused.Message);
    }

    [Fact]
    public void TheDefinitionsTypesAndTheRuntimesArgumentTypesAgree()
    {
        foreach (WireType type in Enum.GetValues<WireType>())
        {
            Assert.Equal(type.ToString(), DefinitionsLoader.ToArgumentType(type).ToString());
        }

        Assert.Equal(Enum.GetValues<WireType>().Length, Enum.GetValues<ArgumentType>().Length);
    }
}
