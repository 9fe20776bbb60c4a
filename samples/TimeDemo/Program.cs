using TimeClient;
using TimeMessages;
using TimeServer;
using Wevis;

// The original example, start to finish, with nothing else to set up: a time server on a free port of this
// machine, and the example's client talking to it. Prints what the client prints.
await using var server = new Server(
    TimeLogin.Validator(TimeProtocol.DefaultUser, TimeProtocol.DefaultPassword),
    new TimeRoom(),
    new ServerOptions { Host = "127.0.0.1", Port = 0 });
await server.StartAsync();
Console.WriteLine($"TimeServer is listening on {server.EndPoint}. TimeClient says:");

using (var client = new Client(TimeProtocol.DefaultUser, TimeProtocol.DefaultPassword, TimeProtocol.Version, "127.0.0.1", server.Port))
{
    TimeConversation.RunBlocking(client, Console.Out);
}

await server.StopAsync();
