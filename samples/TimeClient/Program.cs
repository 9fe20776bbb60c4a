using TimeClient;
using TimeMessages;
using Wevis;
using Wevis.Samples;

// The original example's client: logs in, then prints who it is, the time, and some floats.
const string Usage = "Usage: TimeClient [--host localhost] [--port 12121] [--user michael] [--password mypassword] [--async]\n"
    + "                  [--connect-timeout 10] [--server-timeout 30]\n"
    + "  --async            use the async client style instead of the blocking one\n"
    + "  --connect-timeout  seconds that connecting and logging in may take together\n"
    + "  --server-timeout   seconds of silence from the server after which the connection is taken as lost";

CommandLine options;
int port;
var clientOptions = new ClientOptions();
try
{
    options = CommandLine.Parse(args, ["--host", "--port", "--user", "--password", "--connect-timeout", "--server-timeout"], ["--async"]);
    port = options.GetInt("--port", ServerOptions.DefaultPort, min: 1, max: 65535);
    clientOptions.ConnectTimeout = options.GetSeconds("--connect-timeout", clientOptions.ConnectTimeout);
    clientOptions.ServerTimeout = options.GetSeconds("--server-timeout", clientOptions.ServerTimeout);
}
catch (CommandLineException ex)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(Usage);
    return 2;
}

await using var client = new Client(
    options.Get("--user", TimeProtocol.DefaultUser),
    options.Get("--password", TimeProtocol.DefaultPassword),
    TimeProtocol.Version,
    options.Get("--host", "localhost"),
    port,
    clientOptions);
try
{
    if (options.Has("--async"))
    {
        await TimeConversation.RunAsync(client, Console.Out);
    }
    else
    {
        TimeConversation.RunBlocking(client, Console.Out);
    }

    return 0;
}
catch (LoginRejectedException ex)
{
    Console.Error.WriteLine($"Login rejected: {ex.Reason}");
    return 1;
}
catch (ArgumentOutOfRangeException ex)
{
    // The options are checked together when the client connects.
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(Usage);
    return 2;
}
catch (WevisException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 1;
}
