using Example;
using Wevis.Runtime.Tests.Messages;
using Wevis.Serialization;

namespace Wevis.Runtime.Tests.Serialization;

/// <summary>What generated records promise: value equality, readable text, no nulls, descriptors.</summary>
public class MessageTypeTests
{
    [Fact]
    public void ArraysCompareByContent()
    {
        var a = new SomeFloats([1f, 2f], [3d, double.NaN]);
        var b = new SomeFloats([1f, 2f], [3d, double.NaN]);

        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, new SomeFloats([1f, 2f], [3d]));
        Assert.NotEqual(a, new SomeFloats([1f, 2.5f], [3d, double.NaN]));
    }

    [Fact]
    public void ToStringIsReadable()
    {
        Assert.Equal("ItIs { Hours = 13, Minutes = 5 }", new ItIs(13, 5).ToString());
        Assert.Equal("YouAre { Name = \"michael\" }", new YouAre("michael").ToString());
        Assert.Equal("ServerReady { }", new ServerReady().ToString());
        Assert.Equal(
            "SomeFloats { Singles = [0, 0.5], Doubles = [0, 1, 2, 3, 4, 5, 6, 7, … (20 values)] }",
            new SomeFloats([0f, 0.5f], Enumerable.Range(0, 20).Select(i => (double)i).ToArray()).ToString());
        Assert.Equal(
            "AllTypes { Count = 1, Total = 2, Ratio = 0.1, Flag = true, Label = \"a\\\"b\", Blob = [2 bytes: 0a ff], Singles = [], Doubles = [] }",
            new AllTypes(1, 2, 0.1, true, "a\"b", [10, 255], [], []).ToString());
    }

    [Fact]
    public void NullIsRejectedAtConstructionForFileDefinedMessages()
    {
        Assert.Equal("Name", Assert.Throws<ArgumentNullException>(() => new YouAre(null!)).ParamName);
        Assert.Equal("Singles", Assert.Throws<ArgumentNullException>(() => new SomeFloats(null!, [])).ParamName);
        var valid = new YouAre("michael");
        Assert.Throws<ArgumentNullException>(() => valid with { Name = null! });
    }

    [Fact]
    public void NullIsRejectedWhenSentForCodeDefinedMessages()
    {
        var message = new Tagged(null!, []);

        ArgumentNullException ex = Assert.Throws<ArgumentNullException>(() => MessageSerializer.ToBytes(message));
        Assert.Contains("Tagged.Tag is null", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DescriptorsDescribeTheDefinition()
    {
        MessageDescriptor itIs = ((IMessage)new ItIs(0, 0)).Descriptor;

        Assert.Equal("ItIs", itIs.Name);
        Assert.Equal(typeof(ItIs), itIs.MessageType);
        Assert.Equal("ItIs hours=int minutes=int", itIs.Definition);
        Assert.Equal([new MessageArgument("hours", "Hours", ArgumentType.Int32), new MessageArgument("minutes", "Minutes", ArgumentType.Int32)], itIs.Arguments);
        Assert.Equal("Move X=int Y=int", ((IMessage)new Move(0, 0)).Descriptor.Definition);
        Assert.False(itIs.IsProtocolMessage);
    }

    [Fact]
    public void GeneratedTypesAreSealedRecords()
    {
        Assert.True(typeof(ItIs).IsSealed);
        Assert.True(typeof(Move).IsSealed);
        var (hours, minutes) = new ItIs(1, 2);
        Assert.Equal((1, 2), (hours, minutes));
    }
}
