using Microsoft.Extensions.Logging;
using Wevis;
using Wevis.Samples;
using Wevis.Samples.Chat;

// The chat sample: a lobby and channels, each a room. "demo" (the default) runs a server and three scripted users;
// "server" runs a server until Ctrl+C; "client" talks to one from the console.
string mode = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? args[0] : "demo";
string[] rest = args.Length > 0 && mode == args[0] ? args[1..] : args;
try
{
    return mode switch
    {
        "demo" => await DemoAsync(CommandLine.Parse(rest, [])),
        "server" => Serve(CommandLine.Parse(rest, ["--host", "--port", "--idle-minutes"])),
        "client" => await ConsoleClient.RunAsync(CommandLine.Parse(rest, ["--user", "--host", "--port"]), Console.In, Console.Out),
        _ => throw new CommandLineException($"Unknown mode '{mode}'."),
    };
}
catch (CommandLineException ex)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine("Usage: Chat [demo] | server [--host H] [--port P] [--idle-minutes M] | client --user NAME [--host H] [--port P]");
    return 2;
}

static async Task<int> DemoAsync(CommandLine options)
{
    await using Server server = ChatServer.Create(new ServerOptions { Host = "127.0.0.1", Port = 0 });
    await server.StartAsync();
    Console.WriteLine($"The chat server is listening on 127.0.0.1:{server.Port}.");
    await ChatDemo.RunAsync("127.0.0.1", server.Port, Console.Out);
    return 0;
}

static int Serve(CommandLine options)
{
    using ILoggerFactory logging = LoggerFactory.Create(builder => builder.AddSimpleConsole(console => console.SingleLine = true));
    Server server = ChatServer.Create(
        new ServerOptions { Host = options.Get("--host", "localhost"), Port = options.GetInt("--port", 12122), LoggerFactory = logging },
        TimeSpan.FromMinutes(options.GetInt("--idle-minutes", 10)));
    server.Launch();
    return 0;
}
