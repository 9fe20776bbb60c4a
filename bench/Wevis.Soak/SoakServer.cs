using System.Globalization;
using Microsoft.Extensions.Logging;
using Wevis.Soak.Messages;

namespace Wevis.Soak;

/// <summary>
/// The server side of the soak, run in a child process. It prints <c>PORT n</c> once listening, then answers
/// commands on standard input: <c>stats</c> prints a <c>STATS</c> line (after a full garbage collection),
/// <c>quit</c> stops it.
/// </summary>
internal static class SoakServer
{
    public const string Password = "soak";

    public static async Task<int> RunAsync(TextReader commands, TextWriter replies)
    {
        // Warnings and errors go to standard error, which the driver passes through: a soak should show none.
        using ILoggerFactory logging = LoggerFactory.Create(builder => builder
            .SetMinimumLevel(Enum.TryParse(Environment.GetEnvironmentVariable("WEVIS_SOAK_LOG_LEVEL"), out LogLevel level) ? level : LogLevel.Warning)
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
            .AddSimpleConsole(o => o.SingleLine = true));
        var room = new EchoRoom();
        var server = new Server(Validate, room, new ServerOptions
        {
            Host = "127.0.0.1",
            Port = 0,
            MaxPendingLogins = 10_000,
            Messages = WevisRegistry.Messages,
            LoggerFactory = logging,

            // Behind the fault proxy (--faults) black holes must be noticed soon, and sessions whose first login was
            // cut (never resumed) leave soon; short settings cost nothing otherwise.
            PingInterval = TimeSpan.FromSeconds(1),
            PingTimeout = TimeSpan.FromSeconds(2),
            ResumeGracePeriod = TimeSpan.FromSeconds(5),
        });
        await server.StartAsync();
        await replies.WriteLineAsync($"PORT {server.Port}");
        await replies.FlushAsync();

        while (await commands.ReadLineAsync() is { } command)
        {
            if (command == "stats")
            {
                long heap = GC.GetTotalMemory(forceFullCollection: true);
                await replies.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"STATS heap={heap} workingset={Environment.WorkingSet} connections={server.ConnectionCount} inroom={room.Count} handled={room.Handled}"));
                await replies.FlushAsync();
            }
            else if (command == "quit")
            {
                break;
            }
        }

        await server.StopAsync();
        return 0;
    }

    private static LoginResult Validate(string username, string password, string salt, string version) =>
        Credentials.Verify(password, username.StartsWith("soak", StringComparison.Ordinal) ? Password : null, salt) ? new User(username) : null;

    /// <summary>Answers each <see cref="Echo"/> with an <see cref="Echoed"/> of the same number and payload.</summary>
    private sealed class EchoRoom : Room
    {
        private long _handled;

        public long Handled => Interlocked.Read(ref _handled);

        protected override void Handle(Connection connection, IMessage message)
        {
            if (message is Echo(int sequence, byte[] payload))
            {
                Interlocked.Increment(ref _handled);
                connection.Send(new Echoed(sequence, payload));
            }
        }
    }
}
