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
            [("hours", "Hours", WireType.Int32, 0), ("minutes", "Minutes", WireType.Int32, 0)],
            itIs.Arguments.Select(a => (a.Name, a.PropertyName, a.Type, a.Bound)));
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

    [Fact]
    public void ParsesDirectionsRepliesBoundsAndTheVersion()
    {
        DefinitionsFileSpec spec = Parse(File.ReadAllText("lobby.wevis"));

        Assert.Empty(spec.Diagnostics);
        Assert.Equal(2, spec.Version);
        Assert.Equal((3, 10), (spec.VersionLocation!.StartLine + 1, spec.VersionLocation.StartCharacter + 1));
        Assert.All(spec.Messages, m => Assert.Equal(2, m.DefinitionsVersion));

        MessageSpec join = spec.Messages.Single(m => m.Name == "Join");
        Assert.Equal(Direction.ClientToServer, join.Direction);
        Assert.Equal(["Joined", "RoomFull"], join.Replies.Select(r => r.Name));
        Assert.Equal(("room", WireType.String, 32), join.Arguments.Select(a => (a.Name, a.Type, a.Bound)).Single());
        Assert.Equal("client: Join room=str(32) -> Joined | RoomFull", join.Definition);

        MessageSpec terrain = spec.Messages.Single(m => m.Name == "Terrain");
        Assert.Equal(Direction.ServerToClient, terrain.Direction);
        Assert.Empty(terrain.Replies);
        Assert.Equal([4096, 65536, 4096], terrain.Arguments.Select(a => a.Bound));

        MessageSpec heartbeat = spec.Messages.Single(m => m.Name == "Heartbeat");
        Assert.Equal(Direction.Both, heartbeat.Direction);
        Assert.Null(heartbeat.DirectionLocation);
        Assert.Equal("Heartbeat sent=long", heartbeat.Definition);
    }

    [Theory]
    [InlineData("client:Ask n=int->Yes|No")]
    [InlineData("client: Ask n=int -> Yes | No")]
    [InlineData("  client:   Ask\tn=int   ->Yes |No   # a comment -> Maybe")]
    public void SpacesAroundDirectionsArrowsAndBarsAreOptional(string line)
    {
        DefinitionsFileSpec spec = Parse(line + "\nserver: Yes\nserver: No");

        Assert.Empty(spec.Diagnostics);
        Assert.Equal("client: Ask n=int -> Yes | No", spec.Messages[0].Definition);
    }

    [Fact]
    public void TheVersionCoversTheLinesAboveItToo()
    {
        DefinitionsFileSpec spec = Parse("First\n@version 7\nSecond");

        Assert.Equal([7, 7], spec.Messages.Select(m => m.DefinitionsVersion));
    }

    [Fact]
    public void WithoutTheNewSyntaxNothingChanges()
    {
        DefinitionsFileSpec spec = Parse(File.ReadAllText("example.wevis"));

        Assert.Equal(0, spec.Version);
        Assert.All(spec.Messages, m => Assert.Equal((Direction.Both, 0, 0), (m.Direction, m.Replies.Count, m.DefinitionsVersion)));
        Assert.All(spec.Messages.SelectMany(m => m.Arguments), a => Assert.Equal(0, a.Bound));
    }

    [Fact]
    public void TheGeneratorsDirectionEnumAgreesWithTheRuntimes()
    {
        Assert.Equal(
            Enum.GetNames<MessageDirection>().Select(n => (n, (int)Enum.Parse<MessageDirection>(n))).Order(),
            Enum.GetNames<Direction>().Select(n => (n, (int)Enum.Parse<Direction>(n))).Order());
        Assert.Equal(
            Enum.GetNames<ArgumentType>().Select(n => (n, (int)Enum.Parse<ArgumentType>(n))).Order(),
            Enum.GetNames<WireType>().Select(n => (n, (int)Enum.Parse<WireType>(n))).Order());
    }
}
