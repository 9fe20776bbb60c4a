using MessagePack;
using Wevis.Serialization;
using Wevis.Cli.Commands;
using Wevis.Cli.Definitions;
using Wevis.Cli.Load;
using Wevis.Cli.Tests.Limits;
using Wevis.Tests.Shared;
using MessageText = Wevis.Cli.Definitions.MessageText;

namespace Wevis.Cli.Tests;

/// <summary>
/// Bounded arguments (<c>text=str(8)</c>) and directions (<c>server:</c>): the tool's run-time messages refuse what the
/// generated ones refuse, with the same errors, and what a client cannot send is refused as text, before connecting.
/// </summary>
public class LimitsAndDirectionTests
{
    private static readonly string LimitsPath = Repository.PathOf("tests/Wevis.Cli.Tests/limits.wevis");
    private static readonly LoadedDefinitions Limits = DefinitionsLoader.Load([LimitsPath]);
    private static readonly LoadedDefinitions Example = DefinitionsLoader.Load([Repository.PathOf("definitions/example.wevis")]);
    private static readonly MessageRegistry GeneratedLimits = new(WevisRegistry.Messages.Messages.Where(m => m.MessageType.Namespace == "Wevis.Cli.Tests.Limits"));

    public static TheoryData<int> OverBound => new() { 0, 1, 2, 3 };

    [Theory]
    [MemberData(nameof(OverBound))]
    public void AnArgumentOverItsBoundIsNotWrittenAndTheErrorIsTheGeneratedRecords(int overBound)
    {
        object[] values = ["12345678", new byte[2], new float[1], new double[1]];
        values[overBound] = overBound switch
        {
            0 => "123456789",
            1 => new byte[3],
            2 => new float[2],
            _ => new double[2],
        };
        var generated = new Say((string)values[0], (byte[])values[1], (float[])values[2], (double[])values[3]);
        var dynamic = new DynamicMessage(Limits.Find("Say")!, values);

        ArgumentTooLargeException expected = Assert.Throws<ArgumentTooLargeException>(() => MessageSerializer.ToBytes(generated));
        ArgumentTooLargeException actual = Assert.Throws<ArgumentTooLargeException>(() => MessageSerializer.ToBytes(dynamic));
        Assert.Equal(expected.Message, actual.Message);

        // Within its bounds, the same bytes as the generated record.
        values[overBound] = overBound switch { 0 => "12345678", 1 => new byte[2], 2 => new float[1], _ => new double[1] };
        Assert.Equal(MessageSerializer.ToBytes(new Say("12345678", new byte[2], new float[1], new double[1])), MessageSerializer.ToBytes(new DynamicMessage(Limits.Find("Say")!, values)));
    }

    [Fact]
    public void AReceivedArgumentOverItsBoundIsRefusedFromItsHeaderAsTheGeneratedReaderRefusesIt()
    {
        // A Said whose text is 9 bytes, written by hand: no sender that checks bounds would write it.
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(2);
        writer.Write(Limits.Find("Said")!.WireId);
        writer.Write("123456789");
        writer.Flush();
        byte[] body = buffer.WrittenSpan.ToArray();

        ProtocolException expected = Assert.Throws<ProtocolException>(() => MessageSerializer.Read(body, GeneratedLimits));
        ProtocolException actual = Assert.Throws<ProtocolException>(() => MessageSerializer.Read(body, Limits.Registry));
        Assert.Equal(expected.Message, actual.Message);

        // Read in place with a MessagePackReader (a body spread over several segments is), the same.
        ProtocolException inPlace = Assert.Throws<ProtocolException>(() => ReadInPlace(Limits.Find("Said")!, body));
        Assert.Equal(expected.Message, inPlace.Message);

        static IMessage ReadInPlace(DynamicMessageDescriptor descriptor, byte[] body)
        {
            var reader = new MessagePackReader(body);
            reader.ReadArrayHeader();
            reader.ReadInt32();
            return descriptor.ReadArguments(ref reader);
        }
    }

    [Theory]
    [InlineData("Say text=\"123456789\" blob=0x00 singles=[] doubles=[]", "Say: text holds 9 bytes of UTF-8, over its bound of 8 (text=str(8)).")]
    [InlineData("Say text=\"ééééé\" blob=0x00 singles=[] doubles=[]", "Say: text holds 10 bytes of UTF-8, over its bound of 8 (text=str(8)).")]
    [InlineData("Say text=\"\" blob=0x000102 singles=[] doubles=[]", "Say: blob holds 3 bytes, over its bound of 2 (blob=bytes(2)).")]
    [InlineData("Say text=\"\" blob=0x00 singles=[1,2] doubles=[]", "Say: singles holds 2 values, over its bound of 1 (singles=?f(1)).")]
    [InlineData("Say text=\"\" blob=0x00 singles=[] doubles=[1,2,3]", "Say: doubles holds 3 values, over its bound of 1 (doubles=?d(1)).")]
    [InlineData("Said text=\"hi\"", "Said is sent only by the server (server: Said text=str(8)); a client cannot send it.")]
    public void TextAClientCannotSendIsRefusedNamingTheMessageAndTheArgument(string text, string reason)
    {
        FormatException refused = Assert.Throws<FormatException>(() => MessageText.Parse(text, Limits));
        Assert.Equal(reason, refused.Message);
    }

    [Theory]
    [InlineData("Said text=\"hi\"\nexpect Said", "Script line 1 (Said text=\"hi\"): Said is sent only by the server (server: Said text=str(8)); a client cannot send it.")]
    [InlineData("Say text=\"123456789\" blob=0x00 singles=[] doubles=[]\nexpect Said", "Script line 1 (Say text=\"123456789\" blob=0x00 singles=[] doubles=[]): Say: text holds 9 bytes of UTF-8, over its bound of 8 (text=str(8)).")]
    [InlineData("Say text=\"hi\" blob=0x00 singles=[] doubles=[]\nexpect Say", "Script line 2 (expect Say): Say is sent only by clients (client: Say text=str(8) blob=bytes(2) singles=?f(1) doubles=?d(1)); no Say ever arrives.")]
    public void AScriptWithAMessageAClientCannotSendOrThatNeverArrivesIsRefusedNamingTheLine(string script, string reason)
    {
        FormatException refused = Assert.Throws<FormatException>(() => LoadScript.Parse(script, Limits));
        Assert.Equal(reason, refused.Message);
    }

    [Fact]
    public async Task SendOfAnArgumentOverItsBoundIsAUsageErrorBeforeConnecting()
    {
        // The target listens to nothing: getting as far as connecting would exit with 2 (could not connect).
        (int exitCode, string output, string error) = await InProcessCommand.RunAsync(
            SendCommand.Create(), "send", InProcessCommand.NowhereTarget, "-d", LimitsPath, "--password-env", InProcessCommand.PasswordVariable,
            "Say", "text=\"123456789\"", "blob=0x00", "singles=[]", "doubles=[]");
        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Equal("Say: text holds 9 bytes of UTF-8, over its bound of 8 (text=str(8))." + Environment.NewLine, error);
        Assert.Empty(output);

        (exitCode, _, error) = await InProcessCommand.RunAsync(
            SendCommand.Create(), "send", InProcessCommand.NowhereTarget, "-d", LimitsPath, "--password-env", InProcessCommand.PasswordVariable,
            "Say", "text=\"hi\"", "blob=0x00", "singles=[]", "doubles=[]", "--expect", "Say");
        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Equal("--expect Say: it is sent only by clients (client: Say text=str(8) blob=bytes(2) singles=?f(1) doubles=?d(1)); no Say ever arrives." + Environment.NewLine, error);
    }

    [Fact]
    public async Task LoadWithAUserPatternThatIsNotOneIsAUsageErrorBeforeTheRun()
    {
        string script = Path.Combine(Path.GetTempPath(), "wevis-cli-tests-" + Guid.NewGuid().ToString("N")[..12] + ".script");
        await File.WriteAllTextAsync(script, "WhatTimeIsIt\nexpect ItIs\n");
        try
        {
            (int exitCode, string output, string error) = await InProcessCommand.RunAsync(
                LoadCommand.Create(), "load", InProcessCommand.NowhereTarget, "-d", Repository.PathOf("definitions/example.wevis"), "--password-env", InProcessCommand.PasswordVariable,
                "--script", script, "--clients", "1", "--iterations", "1", "--user-pattern", "user{1}");
            Assert.Equal(ExitCodes.Usage, exitCode);
            Assert.Equal("--user-pattern user{1}: not a pattern of user names; write {0} where each client's number goes (user{0}), and {{ or }} for a brace." + Environment.NewLine, error);
            Assert.Empty(output);
        }
        finally
        {
            File.Delete(script);
        }
    }

    [Fact]
    public async Task AClientThatFailsUnexpectedlyIsCountedAsAFailureAndTheOthersRunOn()
    {
        LoadScript script = LoadScript.Parse("WhatTimeIsIt\nexpect ItIs", Example);
        var runner = new LoadRunner(
            script,
            i => i == 0
                ? throw new InvalidOperationException("client 0 cannot be made")
                : new Client("michael", "mypassword", "1.0.0", "127.0.0.1", 1, new ClientOptions { Messages = Example.Registry }),
            clients: 2,
            iterations: 1,
            TimeSpan.FromSeconds(30));

        LoadReport report = await runner.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(2, report.FailedClients);
        Assert.Equal(1, report.Failures["InvalidOperationException: client 0 cannot be made"]);
        Assert.Contains(report.Failures.Keys, reason => reason.StartsWith("could not connect: ", StringComparison.Ordinal));
    }
}
