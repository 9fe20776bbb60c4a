using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using TimeMessages;
using TimeServer;
using Wevis;
using Wevis.Samples;

// The original example's server: checks logins, says ServerReady to each user, and answers the time, the user's
// name and requests for floats. It logs everything, at debug level, to the console, and runs until Ctrl+C.
const string Usage = "Usage: TimeServer [--host localhost] [--port 12121] [--user michael] [--password mypassword] [--ping-interval 10] [--ping-timeout 5]\n"
    + "  --host           the address or name to listen on; * for every interface\n"
    + "  --port           the TCP port; 0 picks a free one (the log says which)\n"
    + "  --ping-interval  seconds of silence from a client before the server pings it\n"
    + "  --ping-timeout   seconds a client has to answer a ping";

string host, user, password;
int port;
TimeSpan pingInterval, pingTimeout;
try
{
    CommandLine options = CommandLine.Parse(args, ["--host", "--port", "--user", "--password", "--ping-interval", "--ping-timeout"]);
    host = options.Get("--host", "localhost");
    port = options.GetInt("--port", ServerOptions.DefaultPort, min: 0, max: 65535);
    user = options.Get("--user", TimeProtocol.DefaultUser);
    password = options.Get("--password", TimeProtocol.DefaultPassword);
    var defaults = new ServerOptions();
    pingInterval = options.GetSeconds("--ping-interval", defaults.PingInterval, min: 0.01, max: 3600);
    pingTimeout = options.GetSeconds("--ping-timeout", defaults.PingTimeout, min: 0.01, max: 3600);
}
catch (CommandLineException ex)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(Usage);
    return 2;
}

using ILoggerFactory logging = LoggerFactory.Create(builder => builder
    .SetMinimumLevel(LogLevel.Debug)
    .AddSimpleConsole(console => console.SingleLine = true));

var server = new Server(TimeLogin.Validator(user, password), new TimeRoom(), new ServerOptions
{
    Host = host,
    Port = port,
    PingInterval = pingInterval,
    PingTimeout = pingTimeout,
    LoggerFactory = logging,
});

try
{
    server.Launch(); // Logs "Wevis server listening on <address>:<port>", then runs until Ctrl+C or SIGTERM.
}
catch (SocketException ex)
{
    Console.Error.WriteLine($"Cannot listen on {host}:{port}: {ex.Message}");
    return 1;
}

return 0;
