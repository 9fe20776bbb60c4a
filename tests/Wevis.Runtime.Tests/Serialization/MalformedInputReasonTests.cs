using System.Buffers;
using Example;
using Wevis.Protocol;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Messages;
using Wevis.Runtime.Tests.Reliability;
using Wevis.Serialization;
using Xunit.Abstractions;

namespace Wevis.Runtime.Tests.Serialization;

/// <summary>
/// Every reason a body is refused for is in Wevis's words and names the message, the argument and what is wrong,
/// whichever read path the body takes (the span reader, or MessagePackReader for a body in several segments), and
/// it is what a live server tells the peer and logs. .NET's own texts ("Arithmetic operation resulted in an
/// overflow.") say none of that, and must not get through.
/// </summary>
public class MalformedInputReasonTests(ITestOutputHelper output)
{
    private static readonly MessageRegistry s_wire = DecoderFuzzTests.s_wire;

    /// <summary>The texts of the exceptions .NET and MessagePack-CSharp raise on bad data, and signs of their wording.</summary>
    private static readonly string[] s_dotNetTexts =
    [
        new OverflowException().Message,
        new EndOfStreamException().Message,
        new ArgumentOutOfRangeException().Message,
        new ArgumentException().Message,
        new IndexOutOfRangeException().Message,
        new InvalidOperationException().Message,
        new FormatException().Message,
        "(Parameter '",
        "msgpack code",
        "Exception",
    ];

    private static readonly byte[] s_itIs = WireId(new ItIs(0, 0));
    private static readonly byte[] s_youAre = WireId(new YouAre(""));
    private static readonly byte[] s_someFloats = WireId(new SomeFloats([], []));
    private static readonly byte[] s_allTypes = WireId(new AllTypes(0, 0, 0, false, "", [], [], []));

    /// <summary>Each class of malformed input: a body, and the whole reason it must be refused with.</summary>
    private static readonly Dictionary<string, (byte[] Body, string Reason)> s_cases = new()
    {
        // Integers that do not fit.
        ["an int of 2^40"] = (
            [0x93, .. s_itIs, 0xd3, 0, 0, 0x01, 0, 0, 0, 0, 0, 0x00],
            "Malformed ItIs message: argument 'hours' must be int, but the data holds 1099511627776, outside the range of int."),
        ["an int of 2^31 as uint32"] = (
            [0x93, .. s_itIs, 0x01, 0xce, 0x80, 0, 0, 0],
            "Malformed ItIs message: argument 'minutes' must be int, but the data holds 2147483648, outside the range of int."),
        ["a long of 2^64-1"] = (
            [0x99, .. s_allTypes, 0x00, 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            "Malformed AllTypes message: argument 'total' must be long, but the data holds 18446744073709551615, outside the range of long."),

        // Length headers that claim more than the frame holds.
        ["a bin32 header of 2^31 bytes"] = (
            [0x93, .. s_someFloats, 0xc6, 0x80, 0, 0, 0, 0xc4, 0x00],
            "Malformed SomeFloats message: argument 'singles' (?f) claims binary data of 2147483648 bytes, but only 2 bytes remain."),
        ["a bin32 header of 2^32-1 bytes for bytes"] = (
            [0x99, .. s_allTypes, 0x00, 0x00, 0x00, 0xc3, 0xa0, 0xc6, 0xff, 0xff, 0xff, 0xff, 0x01],
            "Malformed AllTypes message: argument 'blob' (bytes) claims binary data of 4294967295 bytes, but only 1 byte remains."),
        ["a bin8 header beyond the frame"] = (
            [0x93, .. s_someFloats, 0xc4, 0x08, 0, 0, 0, 0],
            "Malformed SomeFloats message: argument 'singles' (?f) claims binary data of 8 bytes, but only 4 bytes remain."),
        ["an array32 header of 2^32-1 items"] = (
            [0x93, .. s_someFloats, 0xdd, 0xff, 0xff, 0xff, 0xff, 0xca, 0, 0, 0, 0],
            "Malformed SomeFloats message: argument 'singles' (?f) claims an array of 4294967295 items, but only 5 bytes remain."),
        ["an array16 header beyond the frame"] = (
            [0x93, .. s_someFloats, 0x90, 0xdc, 0x01, 0x00, 0x01],
            "Malformed SomeFloats message: argument 'doubles' (?d) claims an array of 256 items, but only 1 byte remains."),
        ["a str32 header of 2^31 bytes"] = (
            [0x92, .. s_youAre, 0xdb, 0x80, 0, 0, 0, (byte)'a'],
            "Malformed YouAre message: argument 'name' (str) claims a string of 2147483648 bytes, but only 1 byte remains."),
        ["a str32 header of 2^31-1 bytes"] = (
            [0x92, .. s_youAre, 0xdb, 0x7f, 0xff, 0xff, 0xff, (byte)'a'],
            "Malformed YouAre message: argument 'name' (str) claims a string of 2147483647 bytes, but only 1 byte remains."),
        ["a str16 header beyond the frame"] = (
            [0x92, .. s_youAre, 0xda, 0xff, 0xff, (byte)'a', (byte)'b'],
            "Malformed YouAre message: argument 'name' (str) claims a string of 65535 bytes, but only 2 bytes remain."),
        ["a fixstr beyond the frame"] = (
            [0x92, .. s_youAre, 0xa5, (byte)'a'],
            "Malformed YouAre message: argument 'name' (str) claims a string of 5 bytes, but only 1 byte remains."),

        // Truncation.
        ["the data ends before an argument"] = (
            [0x93, .. s_itIs, 0x01],
            "Malformed ItIs message: argument 'minutes' (int) is missing: the data ends before it."),
        ["the data ends inside an int"] = (
            [0x93, .. s_itIs, 0xcd, 0x01],
            "Malformed ItIs message: argument 'hours' (int) is cut off: the data ends inside it."),
        ["the data ends inside a float"] = (
            [0x99, .. s_allTypes, 0x00, 0x00, 0xcb, 0x40, 0x00],
            "Malformed AllTypes message: argument 'ratio' (float) is cut off: the data ends inside it."),
        ["the data ends inside a string's header"] = (
            [0x92, .. s_youAre, 0xda, 0x00],
            "Malformed YouAre message: argument 'name' (str) is cut off: the data ends inside it."),
        ["the data ends inside a float array's element"] = (
            [0x93, .. s_someFloats, 0x92, 0xca, 0x00],
            "Malformed SomeFloats message: argument 'singles' (?f) is cut off: the data ends inside it."),

        // Wrong types.
        ["a string for an int"] = (
            [0x93, .. s_itIs, 0xa3, (byte)'o', (byte)'n', (byte)'e', 0x02],
            "Malformed ItIs message: argument 'hours' must be int, but the data holds a string."),
        ["nil for a string"] = (
            [0x92, .. s_youAre, 0xc0],
            "Malformed YouAre message: argument 'name' must be str, but the data holds nil."),
        ["a boolean for a float array"] = (
            [0x93, .. s_someFloats, 0xc3, 0xc4, 0x00],
            "Malformed SomeFloats message: argument 'singles' must be ?f, but the data holds a boolean."),
        ["a string inside a float array"] = (
            [0x93, .. s_someFloats, 0x91, 0xa1, (byte)'x', 0xc4, 0x00],
            "Malformed SomeFloats message: argument 'singles' holds a string at index 0, where a number belongs."),

        // The body's own header: the message is not known yet, so the wire id or the array is named.
        ["an array32 body header of 2^32-1 items"] = (
            [0xdd, 0xff, 0xff, 0xff, 0xff, .. s_itIs],
            "A message body claims 4294967295 items (its wire id and arguments), but only 5 bytes follow the array's header."),
        ["the data ends inside the body's array header"] = (
            [0xdc, 0x00],
            "A message body must be a MessagePack array of the wire id and the arguments, but the data ends inside the array's header."),
        ["a wire id of 2^40"] = (
            [0x91, 0xd3, 0, 0, 0x01, 0, 0, 0, 0, 0],
            "A message body's wire id must fit in 32 bits, but the data holds 1099511627776."),
        ["the data ends inside the wire id"] = (
            [0xdc, 0x00, 0x01, 0xce, 0x00],
            "A message body's wire id is cut off: the data ends inside it."),
    };

    public static TheoryData<string> Cases => [.. s_cases.Keys];

    [Theory]
    [MemberData(nameof(Cases))]
    public void EachClassOfMalformedInputIsRefusedInOurWordsOnBothReadPaths(string name)
    {
        (byte[] body, string reason) = s_cases[name];

        foreach ((string path, string refused) in ReasonsOnEveryPath(body))
        {
            output.WriteLine($"{path}: {refused}");
            Assert.Equal(reason, refused);
            AssertInOurWords(refused, $"{name}, {path}");
        }
    }

    [Fact]
    public void EveryTruncationOfAValidBodyNamesTheMessageAndTheArgumentOnBothReadPaths()
    {
        byte[] body = MessageSerializer.ToBytes(new AllTypes(70_000, 1L << 40, 3.5, true, "label", [1, 2, 3], [1f, 2f], [3d]));

        // From the wire id on (9 items: the array header and wire id take 6 bytes), the message is known.
        for (int length = 6; length < body.Length; length++)
        {
            foreach ((string path, string refused) in ReasonsOnEveryPath(body[..length]))
            {
                AssertInOurWords(refused, $"cut to {length} bytes, {path}");
                Assert.StartsWith("Malformed AllTypes message: argument '", refused, StringComparison.Ordinal);
                Assert.Matches(@"(is missing: the data ends before it|is cut off: the data ends inside it|claims .* but only \d+ bytes? remains?)\.$", refused);
            }
        }
    }

    [Fact]
    public void TheCheckRecognisesDotNetsTexts()
    {
        // The texts the issue found in reasons before this was fixed; the check above must catch each of them.
        string[] before =
        [
            "Malformed ItIs message: Arithmetic operation resulted in an overflow.",
            "Malformed SomeFloats message: Specified argument was out of the range of valid values. (Parameter 'length')",
            "Malformed SomeFloats message: Attempted to read past the end of the stream.",
        ];

        foreach (string reason in before)
        {
            Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => AssertInOurWords(reason, "an old reason"));
        }
    }

    [Theory]
    [InlineData("an int of 2^40")]
    [InlineData("a bin32 header of 2^31 bytes")]
    [InlineData("an array32 header of 2^32-1 items")]
    [InlineData("a str32 header of 2^31 bytes")]
    [InlineData("the data ends inside an int")]
    [InlineData("a string for an int")]
    public async Task ALiveServerTellsThePeerAndLogsTheReasonInOurWords(string name)
    {
        (byte[] body, string reason) = s_cases[name];
        await using TestServer server = await TestServer.StartAsync();
        using RawPeer peer = server.CreateRawPeer();
        Assert.IsType<LoginAccepted>(await peer.LoginAsync());

        await peer.SendRawAsync(RawPeer.Frame(body));

        List<IMessage> received = await peer.ReceiveUntilClosedAsync(TimeSpan.FromSeconds(10)).WaitAsync(TimeSpan.FromSeconds(15));
        Closing closing = Assert.IsType<Closing>(received[^1]);
        LogEntry logged = await server.Log.WaitForAsync(e => e.EventId.Id == 12).WaitAsync(TimeSpan.FromSeconds(10));
        output.WriteLine(logged.Message);
        Assert.Equal(reason, closing.Reason);
        Assert.Contains(reason, logged.Message, StringComparison.Ordinal);
    }

    /// <summary>The reason <paramref name="body"/> is refused for, read from a span, from one segment per byte, and cut in two at every point.</summary>
    private static IEnumerable<(string Path, string Reason)> ReasonsOnEveryPath(byte[] body)
    {
        yield return ("span", Refuse(() => MessageSerializer.Read(body.AsSpan(), s_wire)));
        yield return ("one segment per byte", Refuse(() => MessageSerializer.Read(DecoderFuzzTests.Segmented(body, [.. Enumerable.Range(1, body.Length)]), s_wire)));
        for (int cut = 1; cut < body.Length; cut++)
        {
            ReadOnlySequence<byte> halves = DecoderFuzzTests.Segmented(body, [cut]);
            yield return ($"two segments cut at {cut}", Refuse(() => MessageSerializer.Read(halves, s_wire)));
        }
    }

    private static string Refuse(Func<IMessage> read) => Assert.Throws<ProtocolException>(() => read()).Message;

    private static void AssertInOurWords(string reason, string where)
    {
        foreach (string text in s_dotNetTexts)
        {
            Assert.False(reason.Contains(text, StringComparison.Ordinal), $"{where}: the reason \"{reason}\" contains .NET's text \"{text}\"");
        }
    }

    private static byte[] WireId(IMessage message)
    {
        int id = message.Descriptor.WireId;
        return [0xce, (byte)(id >> 24), (byte)(id >> 16), (byte)(id >> 8), (byte)id];
    }
}
