using Lobby;
using Microsoft.Extensions.Logging;
using Wevis;

// The Python client's tests' server, from definitions/lobby.wevis: anyone logs in with the password "lobby"; a Join
// is answered Joined, RoomFull (for the room "full"), refused (for an empty name), never (for "silent"), or by
// closing the connection (for "closed"); a Leave with Left; a Talk is broadcast as Talked. Usage: LobbyServer [--host 127.0.0.1] [--port 0]; it logs the port it listens on.
string host = "127.0.0.1";
int port = 0;
for (int i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--host":
            host = args[i + 1];
            break;
        case "--port":
            port = int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture);
            break;
        default:
            Console.Error.WriteLine($"Unknown option {args[i]}. Usage: LobbyServer [--host 127.0.0.1] [--port 0]");
            return 2;
    }
}

using ILoggerFactory logging = LoggerFactory.Create(builder => builder
    .SetMinimumLevel(LogLevel.Information)
    .AddSimpleConsole(console => console.SingleLine = true));

LoginValidator validator = (username, password, salt, version) =>
    Credentials.Verify(password, "lobby", salt) ? new User(username) : "Unknown user or wrong password.";

var server = new Server(validator, new LobbyRoom(), new ServerOptions { Host = host, Port = port, LoggerFactory = logging });
server.Launch(); // Logs "Wevis server listening on <address>:<port>", then runs until SIGTERM.
return 0;

/// <summary>Answers the lobby's requests, as the Python tests expect.</summary>
internal sealed class LobbyRoom : Room
{
    /// <inheritdoc/>
    protected override void Handle(Connection connection, IMessage message)
    {
        switch (message)
        {
            case Request<Join> join when join.Message.Room.Length == 0:
                join.Fail("Name a room to join.");
                break;
            case Request<Join> { Message.Room: "silent" }:
                break; // never answered: the client's timeout ends it
            case Request<Join> { Message.Room: "closed" }:
                connection.Close("The lobby is closed.");
                break;
            case Request<Join> join when join.Message.Room == "full":
                join.Reply(new RoomFull(join.Message.Room));
                break;
            case Request<Join> join:
                Broadcast(new Heartbeat(7)); // a message that arrives before the reply
                join.Reply(new Joined(join.Message.Room, Count));
                break;
            case Request<Leave> leave:
                leave.Reply(new Left("lobby"));
                break;
            case Talk talk:
                Broadcast(new Talked(connection.User.Name, talk.Text));
                break;
            case Heartbeat heartbeat:
                connection.Send(new Heartbeat(heartbeat.Sent + 1));
                break;
        }
    }
}
