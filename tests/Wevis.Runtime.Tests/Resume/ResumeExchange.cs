using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Messages;

namespace Wevis.Runtime.Tests.Resume;

/// <summary>Resumable clients and servers set up alike for the resume tests, and the numbered exchange they run.</summary>
internal static class ResumeExchange
{
    /// <summary>A server that notices lost connections fast (pings after 250 ms of quiet, drops after 750 ms more).</summary>
    public static Task<TestServer> StartServerAsync(ResumeRoom room, Action<ServerOptions>? configure = null) =>
        TestServer.StartAsync(o =>
        {
            o.PingInterval = TimeSpan.FromMilliseconds(250);
            o.PingTimeout = TimeSpan.FromMilliseconds(750);
            o.MaxPendingLogins = 500;
            o.MaxFailedLoginsPerAddress = 0;
            configure?.Invoke(o);
        }, room);

    /// <summary>A resumable client through <paramref name="port"/> (a fault proxy's), quick to reconnect and to notice a silent server.</summary>
    public static Client CreateClient(TestServer server, int port, string user, string password = "pw", Action<ClientOptions>? configure = null)
    {
        var options = new ClientOptions
        {
            LoggerFactory = server.Log,
            ResumeSessions = true,
            ReconnectDelay = TimeSpan.FromMilliseconds(20),
            MaxReconnectDelay = TimeSpan.FromMilliseconds(250),
            ServerTimeout = TimeSpan.FromSeconds(1.5),
            ConnectTimeout = TimeSpan.FromSeconds(5),
        };
        configure?.Invoke(options);
        return new Client(user, password, TestServer.Version, "127.0.0.1", port, options);
    }

    /// <summary>
    /// A client's connector (<see cref="ClientOptions.Connector"/>) to 127.0.0.1:<paramref name="port"/> whose stream a
    /// test wraps (<paramref name="wrap"/>, called once per connection, in order): to hold, gather or break its reads.
    /// </summary>
    public static Func<CancellationToken, ValueTask<Stream>> ConnectThrough(int port, Func<Stream, Stream> wrap) =>
        async cancellationToken =>
        {
            var tcp = new System.Net.Sockets.TcpClient { NoDelay = true };
            await tcp.ConnectAsync("127.0.0.1", port, cancellationToken);
            return wrap(tcp.GetStream());
        };

    /// <summary>
    /// Sends <c>Numbered</c> 0..<paramref name="count"/>-1, at most <paramref name="window"/> unanswered, and checks
    /// the replies arrive once each, in order. Returns the number of replies in order (count when all went well).
    /// </summary>
    public static async Task<int> RunAsync(Client client, int count, int window, Action<int>? afterReply = null)
    {
        int sent = 0;
        int replies = 0;
        while (replies < count)
        {
            while (sent < count && sent - replies < window)
            {
                client.Send(new Numbered(sent++));
            }

            IMessage message = await client.ReceiveAsync();
            if (message is not NumberedReply(int sequence))
            {
                continue;
            }

            if (sequence != replies)
            {
                throw new InvalidOperationException($"{client.Username}: reply {sequence} arrived when {replies} was expected");
            }

            replies++;
            afterReply?.Invoke(replies);
        }

        return replies;
    }
}
