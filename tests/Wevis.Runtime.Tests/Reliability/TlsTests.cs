using Wevis.Sessions;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Example;
using Microsoft.Extensions.Logging;
using Wevis.Protocol;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Networking;
using Wevis.Runtime.Tests.Messages;
using Xunit.Abstractions;

namespace Wevis.Runtime.Tests.Reliability;

/// <summary>
/// TLS end to end with a certificate made at run time: logging in and exchanging messages, what crosses the
/// network (nothing readable), and the clear failures: a client that rejects the certificate, and a client and
/// server that disagree about TLS, which both find out at once, not when the login times out.
/// </summary>
public sealed class TlsTests(ITestOutputHelper output) : IDisposable
{
    private readonly X509Certificate2 _certificate = TestCertificate.CreateSelfSigned();

    public void Dispose() => _certificate.Dispose();

    private Task<TestServer> StartTlsServerAsync(Action<ServerOptions>? configure = null) => TestServer.StartAsync(o =>
    {
        o.Certificate = _certificate;
        configure?.Invoke(o);
    });

    /// <summary>Client options that trust exactly this certificate (pinned by its SHA-256 hash), as for a self-signed server.</summary>
    private Action<ClientOptions> TrustingTheCertificate() => o =>
    {
        string pinned = _certificate.GetCertHashString(HashAlgorithmName.SHA256);
        o.UseTls = true;
        o.TlsTargetHost = "localhost";
        o.ServerCertificateValidation = (_, certificate, _, _) =>
            certificate is not null && certificate.GetCertHashString(HashAlgorithmName.SHA256) == pinned;
    };

    [Fact]
    public async Task AClientLogsInOverTlsAndExchangesMessages()
    {
        await using TestServer server = await StartTlsServerAsync();
        await using Client client = server.CreateClient(configure: TrustingTheCertificate());

        await client.ConnectAsync();
        await client.ReceiveAsync<ServerReady>().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        client.Send(new WhoAmI());
        Assert.Equal("michael", (await client.ReceiveAsync<YouAre>().AsTask().WaitAsync(TimeSpan.FromSeconds(10))).Name);
        for (int i = 0; i < 1000; i++)
        {
            client.Send(new Numbered(i));
        }

        for (int i = 0; i < 1000; i++)
        {
            Assert.Equal(i, (await client.ReceiveAsync<NumberedReply>().AsTask().WaitAsync(TimeSpan.FromSeconds(10))).Sequence);
        }

        // A big message (600 KB) crosses many TLS records.
        client.Send(new PleaseMayIHaveSomeFloats(50_000, 50_000));
        SomeFloats floats = await client.ReceiveAsync<SomeFloats>().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(50_000, floats.Doubles.Length);
        Assert.Equal(49_999 * 0.1, floats.Doubles[^1]);
    }

    [Fact]
    public async Task AClientThatRejectsTheCertificateFailsClearly()
    {
        await using TestServer server = await StartTlsServerAsync();

        // The system's validation: the self-signed certificate is not trusted.
        await using Client untrusting = server.CreateClient(configure: o =>
        {
            o.UseTls = true;
            o.TlsTargetHost = "localhost";
        });
        ConnectionFailedException ex = await Assert.ThrowsAsync<ConnectionFailedException>(() => untrusting.ConnectAsync());

        output.WriteLine(ex.Message);
        Assert.StartsWith($"TLS with 127.0.0.1:{server.Port} failed:", ex.Message, StringComparison.Ordinal);
        Assert.Contains("certificate", ex.Message, StringComparison.OrdinalIgnoreCase);
        // With TLS 1.3 the server's side of the handshake is done before the client judges the certificate, so
        // the server sees a connection that closes before logging in; it lets go of it all the same.
        await ExampleExchangeTests.WaitUntilAsync(() => server.Server.ConnectionCount == 0 && server.Server.PendingLogins == 0);
        output.WriteLine(server.Log.Entries.Last(e => e.EventId.Id is 11 or 14).Message);

        // The server is unharmed: a client that trusts the certificate still gets in.
        await using Client trusting = server.CreateClient(configure: TrustingTheCertificate());
        await trusting.ConnectAsync();
        await ExampleExchangeTests.WaitUntilAsync(() => server.Server.PendingLogins == 0);
    }

    [Fact]
    public async Task AClientPinningAnotherCertificateFailsClearly()
    {
        await using TestServer server = await StartTlsServerAsync();
        using X509Certificate2 other = TestCertificate.CreateSelfSigned();
        string pinned = other.GetCertHashString(HashAlgorithmName.SHA256);
        await using Client client = server.CreateClient(configure: o =>
        {
            o.UseTls = true;
            o.ServerCertificateValidation = (_, certificate, _, _) => certificate?.GetCertHashString(HashAlgorithmName.SHA256) == pinned;
        });

        ConnectionFailedException ex = await Assert.ThrowsAsync<ConnectionFailedException>(() => client.ConnectAsync());

        output.WriteLine(ex.Message);
        Assert.StartsWith($"TLS with 127.0.0.1:{server.Port} failed:", ex.Message, StringComparison.Ordinal);
        Assert.Contains("certificate", ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task WithTlsNothingOfTheLoginOrTheMessagesCanBeReadOnTheWire(bool tls)
    {
        await using TestServer server = await TestServer.StartAsync(o => o.Certificate = tls ? _certificate : null);
        await using var relay = await RecordingRelay.StartAsync(server.Port);
        var options = new ClientOptions { LoggerFactory = server.Log };
        if (tls)
        {
            TrustingTheCertificate()(options);
        }

        await using var client = new Client("michael", "mypassword", TestServer.Version, "127.0.0.1", relay.Port, options);

        await client.ConnectAsync();
        await client.ReceiveAsync<ServerReady>();
        client.Send(new Explode("a secret only the room should read"));
        client.Send(new WhoAmI());
        await client.ReceiveAsync<YouAre>();
        await client.DisposeAsync();
        await server.Server.StopAsync();

        ServerSession session = ((LocalConnection)await server.Room.FirstLeave.Task).Session;
        byte[] wire = relay.Recorded;
        string[] secrets = ["michael", "a secret only the room should read", session.Salt, Credentials.Encrypt("mypassword", session.Salt)];
        int visible = secrets.Count(s => Contains(wire, Encoding.UTF8.GetBytes(s)));
        output.WriteLine($"{(tls ? "TLS" : "plain")}: {wire.Length} bytes crossed the relay; {visible} of {secrets.Length} secrets readable in them");

        // Without TLS everything is in clear (this is what makes the check meaningful); with TLS, none of it.
        Assert.Equal(tls ? 0 : secrets.Length, visible);
    }

    /// <summary>Long enough that a mismatch found only when the login times out cannot pass the tests below.</summary>
    private static readonly TimeSpan LongLoginTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How soon a mismatch must be reported: well under the login timeout, with room for a loaded machine.</summary>
    private static readonly TimeSpan Promptly = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task APlainClientAgainstATlsServerIsToldAtOnceThatTheServerRequiresTls()
    {
        await using TestServer server = await StartTlsServerAsync(o => o.LoginTimeout = LongLoginTimeout);
        await using Client plain = server.CreateClient(configure: o => o.ConnectTimeout = LongLoginTimeout * 2);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        ConnectionFailedException ex = await Assert.ThrowsAsync<ConnectionFailedException>(() => plain.ConnectAsync().WaitAsync(LongLoginTimeout * 3));
        TimeSpan failedAfter = clock.Elapsed;

        output.WriteLine($"after {failedAfter.TotalMilliseconds:0} ms: {ex.Message}");
        Assert.Equal("The server closed the connection: this server requires TLS; connect with TLS (in Wevis, ClientOptions.UseTls = true)", ex.Message);
        Assert.True(failedAfter < Promptly, $"the client was told after {failedAfter.TotalSeconds:0.0} s (login timeout {LongLoginTimeout.TotalSeconds} s)");
        LogEntry logged = await server.Log.WaitForAsync(e => e.Level == LogLevel.Warning && e.EventId.Id == 14).WaitAsync(Promptly);
        output.WriteLine(logged.Message);
        Assert.Matches(
            @"^Connection #1 from 127\.0\.0\.1:\d+: TLS handshake failed: the client does not use TLS \(its first byte is 0x00, where a TLS handshake starts with 0x16\); it was told that this server requires TLS$",
            logged.Message);
        await ExampleExchangeTests.WaitUntilAsync(() => server.Server.PendingLogins == 0 && server.Server.ConnectionCount == 0);
    }

    [Fact]
    public async Task ATlsClientAgainstAPlainServerIsToldAtOnceThatTheServerDoesNotUseTls()
    {
        await using TestServer server = await TestServer.StartAsync(o => o.LoginTimeout = LongLoginTimeout);
        await using Client client = server.CreateClient(configure: o =>
        {
            TrustingTheCertificate()(o);
            o.ConnectTimeout = LongLoginTimeout * 2;
        });

        var clock = System.Diagnostics.Stopwatch.StartNew();
        ConnectionFailedException ex = await Assert.ThrowsAsync<ConnectionFailedException>(() => client.ConnectAsync().WaitAsync(LongLoginTimeout * 3));
        TimeSpan failedAfter = clock.Elapsed;

        output.WriteLine($"after {failedAfter.TotalMilliseconds:0} ms: {ex.Message}");
        Assert.Equal(
            $"TLS with 127.0.0.1:{server.Port} failed: the server does not use TLS (it answered in plain Wevis); turn ClientOptions.UseTls off to connect to it.",
            ex.Message);
        Assert.True(failedAfter < Promptly, $"the client was told after {failedAfter.TotalSeconds:0.0} s (login timeout {LongLoginTimeout.TotalSeconds} s)");
        LogEntry logged = await server.Log.WaitForAsync(e => e.Level == LogLevel.Warning && e.EventId.Id == 12).WaitAsync(Promptly);
        output.WriteLine(logged.Message);
        Assert.Contains(
            "broke the protocol and was closed: The peer is speaking TLS (its first bytes are a TLS handshake record, not a Wevis frame), but this connection does not use TLS",
            logged.Message,
            StringComparison.Ordinal);
        await ExampleExchangeTests.WaitUntilAsync(() => server.Server.PendingLogins == 0 && server.Server.ConnectionCount == 0);
    }

    [Fact]
    public async Task AProgramInAnotherLanguageThatSaysHelloInPlainToATlsServerIsAnsweredInPlain()
    {
        // What docs/protocol.md promises a client written by hand: its first frame, _Hello, gets a plain _Closing back.
        await using TestServer server = await StartTlsServerAsync(o => o.LoginTimeout = LongLoginTimeout);
        using RawPeer peer = server.CreateRawPeer();

        await peer.SendAsync(new Hello(2));
        List<IMessage> received = await peer.ReceiveUntilClosedAsync(Promptly).WaitAsync(Promptly * 2);

        Assert.Equal([new Closing("this server requires TLS; connect with TLS (in Wevis, ClientOptions.UseTls = true)")], received);
    }

    [Fact]
    public async Task AClientHelloToAPlainServerIsRecognisedAsTls()
    {
        // The first bytes of a TLS ClientHello record: handshake (0x16), version 3.1, a length; then a little of the body.
        await using TestServer server = await TestServer.StartAsync(o => o.LoginTimeout = LongLoginTimeout);
        using RawPeer peer = server.CreateRawPeer();

        await peer.SendRawAsync([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]);
        List<IMessage> received = await peer.ReceiveUntilClosedAsync(Promptly).WaitAsync(Promptly * 2);

        Assert.IsType<Welcome>(received[0]);
        Assert.StartsWith("The peer is speaking TLS", Assert.IsType<Closing>(Assert.Single(received, m => m is Closing)).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASilentPeerAtATlsServerIsDroppedAtTheLoginTimeout()
    {
        // A client of protocol version 1, which waited for the welcome without saying hello, looks like this.
        await using TestServer server = await StartTlsServerAsync(o => o.LoginTimeout = TimeSpan.FromMilliseconds(300));
        using RawPeer peer = server.CreateRawPeer();

        List<IMessage> received = await peer.ReceiveUntilClosedAsync(Promptly).WaitAsync(Promptly * 2);

        Assert.Empty(received);
        LogEntry logged = await server.Log.WaitForAsync(e => e.Level == LogLevel.Warning && e.EventId.Id == 14).WaitAsync(Promptly);
        Assert.Matches(@"^Connection #1 from 127\.0\.0\.1:\d+: TLS handshake failed: did not start the TLS handshake within 0\.3 s$", logged.Message);
        await ExampleExchangeTests.WaitUntilAsync(() => server.Server.PendingLogins == 0 && server.Server.ConnectionCount == 0);
    }

    [Fact]
    public async Task ATlsHandshakeAndLoginTogetherMustFinishWithinTheLoginTimeout()
    {
        var timeout = TimeSpan.FromSeconds(2);
        await using TestServer server = await StartTlsServerAsync(o => o.LoginTimeout = timeout);

        // Dawdles for most of the timeout before the TLS handshake, then says nothing: the one clock, started when
        // the connection was accepted, runs out soon after the handshake (or during it, on a slow machine), not a
        // whole timeout after it.
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, server.Port);
        DateTime accepted = DateTime.UtcNow;
        await Task.Delay(timeout * 0.75);
        await using var ssl = new System.Net.Security.SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        try
        {
            await ssl.AuthenticateAsClientAsync("localhost");
            byte[] buffer = new byte[4096];
            while (await ssl.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10)) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is IOException or System.Security.Authentication.AuthenticationException)
        {
            // Dropped during the handshake or reset after it: either way the clock ran out.
        }

        TimeSpan open = DateTime.UtcNow - accepted;
        LogEntry logged = await server.Log.WaitForAsync(e => e.Level == LogLevel.Warning && e.Message.Contains("within 2 s", StringComparison.Ordinal));
        output.WriteLine($"dropped {open.TotalMilliseconds:0} ms after connecting (login timeout {timeout.TotalMilliseconds} ms): {logged.Message}");
        Assert.True(open < timeout * 1.45, $"the connection stayed open {open.TotalMilliseconds:0} ms: the handshake's time was not counted");
    }

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;

    /// <summary>A TCP relay between one client and the server that keeps a copy of every byte passing either way.</summary>
    private sealed class RecordingRelay : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly MemoryStream _recorded = new();
        private readonly Task _relaying;

        private RecordingRelay(TcpListener listener, int serverPort)
        {
            _listener = listener;
            _relaying = RelayAsync(serverPort);
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public byte[] Recorded
        {
            get
            {
                lock (_recorded)
                {
                    return _recorded.ToArray();
                }
            }
        }

        public static Task<RecordingRelay> StartAsync(int serverPort)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return Task.FromResult(new RecordingRelay(listener, serverPort));
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            await _relaying.WaitAsync(TimeSpan.FromSeconds(10));
        }

        private async Task RelayAsync(int serverPort)
        {
            using Socket client = await _listener.AcceptSocketAsync();
            using var server = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await server.ConnectAsync(IPAddress.Loopback, serverPort);
            await Task.WhenAll(PumpAsync(client, server), PumpAsync(server, client));
        }

        private async Task PumpAsync(Socket from, Socket to)
        {
            byte[] buffer = new byte[64 * 1024];
            try
            {
                int read;
                while ((read = await from.ReceiveAsync(buffer)) > 0)
                {
                    lock (_recorded)
                    {
                        _recorded.Write(buffer, 0, read);
                    }

                    await to.SendAsync(buffer.AsMemory(0, read));
                }

                to.Shutdown(SocketShutdown.Send);
            }
            catch (SocketException)
            {
                // One side reset: the recording is what passed until then.
            }
        }
    }
}
