using Microsoft.CodeAnalysis.Text;
using Wevis.Generator.Model;

namespace Wevis.Generator.Tests;

/// <summary>The definitions parser on its own: text in, model out.</summary>
public class ParserTests
{
    private static DefinitionsFileSpec Parse(string text, string @namespace = "Ns", bool allowReserved = false) =>
        DefinitionsParser.Parse(SourceText.From(text), "/defs/test.wevis", @namespace, allowReserved, CancellationToken.None);

    [Fact]
    public void ParsesTheOriginalExample()
    {
        DefinitionsFileSpec spec = Parse(File.ReadAllText("example.wevis"));

        Assert.Empty(spec.Diagnostics);
        Assert.Equal(
            ["ServerReady", "WhatTimeIsIt", "ItIs", "WhoAmI", "YouAre", "PleaseMayIHaveSomeFloats", "SomeFloats"],
            spec.Messages.Select(m => m.Name));
        MessageSpec itIs = spec.Messages.Single(m => m.Name == "ItIs");
        Assert.Equal(5, itIs.Line);
        Assert.Equal("ItIs hours=int minutes=int", itIs.Definition);
        Assert.Equal(
            [new ArgumentSpec("hours", "Hours", WireType.Int32), new ArgumentSpec("minutes", "Minutes", WireType.Int32)],
            itIs.Arguments);
        MessageSpec floats = spec.Messages.Single(m => m.Name == "SomeFloats");
        Assert.Equal([WireType.SingleArray, WireType.DoubleArray], floats.Arguments.Select(a => a.Type));
        Assert.All(spec.Messages, m => Assert.Equal("Ns", m.Namespace));
    }

    [Fact]
    public void MapsEveryTypeKeyword()
    {
        DefinitionsFileSpec spec = Parse("All a=int b=long c=float d=bool e=str f=bytes g=?f h=?d");

        Assert.Empty(spec.Diagnostics);
        Assert.Equal(
            [WireType.Int32, WireType.Int64, WireType.Double, WireType.Boolean, WireType.String, WireType.Bytes, WireType.SingleArray, WireType.DoubleArray],
            spec.Messages.Single().Arguments.Select(a => a.Type));
    }

    [Fact]
    public void IgnoresCommentsAnywhereAndBlankLines()
    {
        DefinitionsFileSpec spec = Parse("# heading\n\n   \nItIs hours=int # trailing comment minutes=int\nWho#AmI\n\t\tTabbed\tx=int  \r\nLast");

        Assert.Empty(spec.Diagnostics);
        Assert.Equal(["ItIs", "Who", "Tabbed", "Last"], spec.Messages.Select(m => m.Name));
        Assert.Single(spec.Messages[0].Arguments);
        Assert.Equal([4, 5, 6, 7], spec.Messages.Select(m => m.Line));
    }

    [Theory]
    [InlineData("hours", "Hours")]
    [InlineData("hours_left", "HoursLeft")]
    [InlineData("hoursLeft", "HoursLeft")]
    [InlineData("x", "X")]
    [InlineData("a1_b2", "A1B2")]
    public void ArgumentNamesBecomePascalCaseProperties(string argument, string property)
    {
        Assert.Equal(property, Parse($"M {argument}=int").Messages.Single().Arguments.Single().PropertyName);
    }

    [Fact]
    public void WireIdsAreFnv1aOfTheNameWithTheSignBitCleared()
    {
        // Published FNV-1a 32-bit test vectors: "a" -> 0xe40c292c, "foobar" -> 0xbf9cf968.
        Assert.Equal(0x640c292c, WireNames.WireId("a"));
        Assert.Equal(0x3f9cf968, WireNames.WireId("foobar"));
    }

    [Fact]
    public void WireIdsDoNotDependOnOrder()
    {
        DefinitionsFileSpec forward = Parse("A x=int\nB\nC y=str");
        DefinitionsFileSpec backward = Parse("C y=str\nB\nA x=int");

        Assert.Equal(
            forward.Messages.ToDictionary(m => m.Name, m => m.WireId),
            backward.Messages.ToDictionary(m => m.Name, m => m.WireId));
    }

    [Fact]
    public void ReservedNamesAreAllowedOnlyInTheProtocolAssemblyAndLoseTheirUnderscore()
    {
        Assert.Contains(Parse("_Ping").Diagnostics, d => d.DescriptorId == "WEVIS007");

        DefinitionsFileSpec protocol = Parse("_Ping", allowReserved: true);
        Assert.Empty(protocol.Diagnostics);
        Assert.Equal("_Ping", protocol.Messages.Single().Name);
        Assert.Equal("Ping", protocol.Messages.Single().TypeName);
    }

    [Fact]
    public void AMessageWithABadArgumentIsLeftOutButOthersAreKept()
    {
        DefinitionsFileSpec spec = Parse("Good x=int\nBad y=nope\nAlsoGood");

        Assert.Equal(["Good", "AlsoGood"], spec.Messages.Select(m => m.Name));
        Assert.Equal("WEVIS001", Assert.Single(spec.Diagnostics).DescriptorId);
    }

    [Fact]
    public void TheModelComparesByValue()
    {
        const string text = "ItIs hours=int minutes=int\nYouAre name=str";
        Assert.Equal(Parse(text), Parse(text));
        Assert.NotEqual(Parse(text), Parse(text + "\nMore"));
    }
}
