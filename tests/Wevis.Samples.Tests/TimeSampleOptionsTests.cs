using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Wevis.Tests.Shared;

namespace Wevis.Samples.Tests;

/// <summary>The time samples' timeouts, given on the command line as the server's and client's options are.</summary>
public sealed partial class TimeSampleOptionsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task TheServerTakesItsLoginTimeoutFromTheCommandLine()
    {
        using DotnetProcess server = DotnetProcess.Start(
            [Repository.SampleDll("TimeServer"), "--host", "127.0.0.1", "--port", "0", "--login-timeout", "0.5"]);
        Match listening = await server.WaitForOutputAsync(ListeningLine(), Timeout);

        // A peer that never logs in is closed after half a second, well before the default 5 s.
        using var peer = new TcpClient();
        await peer.ConnectAsync(IPAddress.Loopback, int.Parse(listening.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture));
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(4));
        byte[] buffer = new byte[256];
        try
        {
            while (await peer.GetStream().ReadAsync(buffer, bound.Token) > 0)
            {
            }
        }
        catch (OperationCanceledException)
        {
            Assert.Fail("The server did not close a connection that never logged in within 4 s, with --login-timeout 0.5.");
        }

        await server.WaitForOutputAsync(DidNotLogInLine(), Timeout);
    }

    [Fact]
    public async Task TheServerTakesItsPingIntervalFromTheCommandLine()
    {
        using DotnetProcess server = DotnetProcess.Start(
            [Repository.SampleDll("TimeServer"), "--host", "127.0.0.1", "--port", "0", "--ping-interval", "0.3"]);
        Match listening = await server.WaitForOutputAsync(ListeningLine(), Timeout);
        int port = int.Parse(listening.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture);

        // A logged-in client that says nothing is pinged after 0.3 s of quiet (the default would wait 10 s); it
        // answers by itself, so it is still served afterwards.
        await using var client = new Client(
            TimeMessages.TimeProtocol.DefaultUser, TimeMessages.TimeProtocol.DefaultPassword, TimeMessages.TimeProtocol.Version, "127.0.0.1", port,
            new ClientOptions { Messages = TimeMessages.WevisRegistry.Messages });
        await client.ConnectAsync().WaitAsync(Timeout);
        await server.WaitForOutputAsync(PingedLine(), TimeSpan.FromSeconds(5));

        client.Send(new TimeMessages.WhoAmI());
        Assert.Equal(TimeMessages.TimeProtocol.DefaultUser, (await client.WaitForAsync<TimeMessages.YouAre>().AsTask().WaitAsync(Timeout)).Name);
    }

    [Fact]
    public async Task TheClientTakesItsConnectTimeoutFromTheCommandLine()
    {
        // A server that accepts the connection and then says nothing, so the login never finishes.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        int port = ((IPEndPoint)silent.LocalEndpoint).Port;
        Task<TcpClient> accepted = silent.AcceptTcpClientAsync();

        using DotnetProcess client = DotnetProcess.Start(
            [Repository.SampleDll("TimeClient"), "--host", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--connect-timeout", "0.5"]);
        int exitCode = await client.WaitForExitAsync(TimeSpan.FromSeconds(8)); // The default would take 10 s.

        Assert.Equal(1, exitCode);
        Assert.Equal([$"Could not connect and log in to 127.0.0.1:{port} within 0.5 s."], client.Errors);

        // The connection is usually accepted, but on a loaded machine the half second can run out before the client
        // has even connected (seen at a load average of 21), and the timeout it reports is the same; so this only tidies up.
        silent.Stop();
        try
        {
            (await accepted.WaitAsync(TimeSpan.FromSeconds(1))).Dispose();
        }
        catch (Exception ex) when (ex is TimeoutException or SocketException or ObjectDisposedException)
        {
        }
    }

    [Theory]
    [InlineData("TimeServer", "--ping-interval", "0")]
    [InlineData("TimeServer", "--ping-timeout", "soon")]
    [InlineData("TimeServer", "--login-timeout", "-1")]
    [InlineData("TimeClient", "--server-timeout", "0")]
    [InlineData("TimeClient", "--connect-timeout", "NaN")]
    public async Task ATimeoutThatIsNotAPositiveNumberOfSecondsPrintsTheUsage(string sample, string option, string value)
    {
        using DotnetProcess process = DotnetProcess.Start([Repository.SampleDll(sample), option, value]);

        Assert.Equal(2, await process.WaitForExitAsync(Timeout));
        Assert.Equal($"{option} must be a positive number of seconds, not '{value}'.", process.Errors[0]);
        Assert.StartsWith($"Usage: {sample}", process.Errors[1], StringComparison.Ordinal);
        Assert.Contains(process.Errors, line => line.TrimStart().StartsWith(option, StringComparison.Ordinal));
    }

    [GeneratedRegex(@"Wevis server listening on 127\.0\.0\.1:(?<port>\d+) ")]
    private static partial Regex ListeningLine();

    [GeneratedRegex(@"Pinged connection #\d+ \(michael\) after \d+ ms of quiet")]
    private static partial Regex PingedLine();

    [GeneratedRegex(@"did not log in within 0\.5 s")]
    private static partial Regex DidNotLogInLine();
}
