using System.Text.RegularExpressions;
using TimeMessages;
using Wevis.Tests.Shared;

namespace Wevis.Samples.Tests;

/// <summary>samples/TimeServer.Hosted run as a user runs it, with its metrics and traces sent to the console.</summary>
public sealed partial class TimeServerHostedTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task WithTelemetryOnTheConsoleTheServersInstrumentsAndSpansArePrinted()
    {
        using DotnetProcess server = DotnetProcess.Start(
            [Repository.SampleDll("TimeServer.Hosted"), "--Wevis:Server:Host", "127.0.0.1", "--Wevis:Server:Port", "0",
                "--Telemetry:Console", "true", "--Telemetry:ConsoleIntervalSeconds", "1"],
            workingDirectory: Path.GetDirectoryName(Repository.SampleDll("TimeServer.Hosted")));
        Match listening = await server.WaitForOutputAsync(ListeningLine(), Timeout);
        int port = int.Parse(listening.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture);

        await using var client = new Client(
            TimeProtocol.DefaultUser, TimeProtocol.DefaultPassword, TimeProtocol.Version, "127.0.0.1", port,
            new ClientOptions { Messages = TimeMessages.WevisRegistry.Messages });
        await client.ConnectAsync().WaitAsync(Timeout);
        client.Send(new WhoAmI());
        Assert.Equal(TimeProtocol.DefaultUser, (await client.WaitForAsync<YouAre>().AsTask().WaitAsync(Timeout)).Name);

        // The console exporter prints each span as it ends, and the instruments that moved every second.
        await server.WaitForOutputAsync(SpanLine("wevis.login"), Timeout);
        await server.WaitForOutputAsync(SpanLine("handle WhoAmI"), Timeout);
        foreach (string instrument in new[] { "wevis.server.active_sessions", "wevis.server.logins", "wevis.server.messages.received", "wevis.server.handler.duration" })
        {
            await server.WaitForOutputAsync(new Regex($@"^Metric Name: {Regex.Escape(instrument)}, "), Timeout);
        }
    }

    private static Regex SpanLine(string displayName) => new($@"^Activity\.DisplayName: +{Regex.Escape(displayName)}$");

    [GeneratedRegex(@"Wevis server listening on 127\.0\.0\.1:(?<port>\d+) ")]
    private static partial Regex ListeningLine();
}
