using CsCheck;
using Example;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Messages;
using Wevis.Serialization;

namespace Wevis.Runtime.Tests.Transport;

/// <summary>
/// A message type whose arguments all have a fixed size has a bound on its body, which lets the transport encode
/// it straight into its output; the bound must hold for every value, and types with a variable-size argument
/// have none.
/// </summary>
public class BoundedEncodingTests
{
    [Fact]
    public void FixedSizeMessagesNeverExceedTheirBound()
    {
        Property.Check(Gen.Select(Gen.Int, Gen.Int, Gen.Long, Gen.Double), values =>
        {
            (int a, int b, long c, double d) = values;
            AssertWithinBound(new ItIs(a, b));
            AssertWithinBound(new Move(a, b));
            AssertWithinBound(new Numbered(a));
            AssertWithinBound(new WhatTimeIsIt());
        });

        // The largest encodings: negative extremes need the widest integer forms.
        AssertWithinBound(new ItIs(int.MinValue, int.MinValue));
        AssertWithinBound(new Numbered(int.MaxValue));
    }

    [Fact]
    public void TheBoundIsTightForTheWidestValues()
    {
        MessageDescriptor itIs = ((IMessage)new ItIs(0, 0)).Descriptor;
        // fixarray(3), wire id (uint32: 5), two int32 (5 each).
        Assert.Equal(1 + 5 + 5 + 5, itIs.MaxBodySize);
        Assert.Equal(itIs.MaxBodySize, MessageSerializer.ToBytes(new ItIs(int.MinValue, int.MinValue)).Length);
    }

    [Fact]
    public void MessagesWithAVariableSizeArgumentHaveNoBound()
    {
        Assert.Equal(int.MaxValue, ((IMessage)new YouAre("michael")).Descriptor.MaxBodySize);
        Assert.Equal(int.MaxValue, ((IMessage)new Tagged("t", [1.0])).Descriptor.MaxBodySize);
        Assert.Equal(int.MaxValue, ((IMessage)new SomeFloats([], [])).Descriptor.MaxBodySize);
    }

    private static void AssertWithinBound(IMessage message)
    {
        int length = MessageSerializer.ToBytes(message).Length;
        Assert.True(length <= message.Descriptor.MaxBodySize, $"{message} took {length} bytes, over its bound of {message.Descriptor.MaxBodySize}");
    }
}
