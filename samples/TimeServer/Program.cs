using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using TimeMessages;
using TimeServer;
using Wevis;
using Wevis.Samples;

// The original example's server: checks logins, says ServerReady to each user, and answers the time, the user's
// name and requests for floats. It logs everything, at debug level, to the console, and runs until Ctrl+C.
const string Usage = "Usage: TimeServer [--host localhost] [--port 12121] [--user michael] [--password mypassword]\n"
    + "                  [--login-timeout 5] [--ping-interval 10] [--ping-timeout 5]\n"
    + "  --host           the address or name to listen on; * for every interface\n"
    + "  --port           the TCP port; 0 picks a free one (the log says which)\n"
    + "  --login-timeout  seconds a new connection has to log in\n"
    + "  --ping-interval  seconds a connection may be quiet before the server pings it\n"
    + "  --ping-timeout   seconds the server waits for the answer to a ping before dropping the connection";

string host, user, password;
int port;
var defaults = new ServerOptions();
TimeSpan loginTimeout, pingInterval, pingTimeout;
try
{
    CommandLine options = CommandLine.Parse(args, ["--host", "--port", "--user", "--password", "--login-timeout", "--ping-interval", "--ping-timeout"]);
    host = options.Get("--host", "localhost");
    port = options.GetInt("--port", ServerOptions.DefaultPort, min: 0, max: 65535);
    user = options.Get("--user", TimeProtocol.DefaultUser);
    password = options.Get("--password", TimeProtocol.DefaultPassword);
    loginTimeout = options.GetSeconds("--login-timeout", defaults.LoginTimeout);
    pingInterval = options.GetSeconds("--ping-interval", defaults.PingInterval);
    pingTimeout = options.GetSeconds("--ping-timeout", defaults.PingTimeout);
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
    LoginTimeout = loginTimeout,
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
catch (ArgumentOutOfRangeException ex)
{
    // The server checks its options when it starts.
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(Usage);
    return 2;
}

return 0;
