using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Wevis;
using Wevis.ClusterBench;
using Wevis.ClusterBench.Messages;
using Wevis.Orleans;

// Round trips (a: one client, one message at a time) and fan-out (c: one message broadcast to a room of N, timed
// until the last receiver has it) through a room on a single server, on a cluster's node that is also the client's
// gateway, and on another node; one run, the same clients and rooms code. Usage:
//   dotnet run -c Release --project bench/Wevis.ClusterBench -- [--rounds 3000] [--fanout 8] [--out bench/results]
int rounds = IntArg("--rounds", 3000);
int fanout = IntArg("--fanout", 8);
string outDir = StringArg("--out", Path.Combine("bench", "results"));
const string Password = "bench";
MessageRegistry messages = WevisRegistry.Messages;

LoginValidator login = (name, password, salt, version) => Credentials.Verify(password, Password, salt) ? new User(name) : "wrong password";
var results = new List<(string Target, string Scenario, double[] Micros)>();

// The single server.
var single = new Server(login, new BenchLobby(), new ServerOptions { Host = "127.0.0.1", Port = 0, Messages = messages, MaxConnectionsPerUser = 100 });
single.Rooms.Define<BenchRoom>("bench");
await single.StartAsync();
await MeasureAsync("single server", single.Port, roomMustBeOn: null);
await single.StopAsync();

// The cluster: two silos in this process, localhost clustering, each a gateway.
int primary = FreePort();
var silos = new List<IHost>();
for (int i = 0; i < 2; i++)
{
    int siloPort = i == 0 ? primary : FreePort();
    HostApplicationBuilder builder = Host.CreateApplicationBuilder();
    builder.Logging.ClearProviders();
    builder.UseOrleans(silo =>
    {
        silo.UseLocalhostClustering(siloPort, FreePort(), new IPEndPoint(IPAddress.Loopback, primary), serviceId: "bench", clusterId: "bench");
        silo.AddWevisGateway(wevis =>
        {
            wevis.Login = login;
            wevis.EntryRoom = () => new BenchLobby();
            wevis.Define<BenchRoom>("bench");
            wevis.Gateway.Host = "127.0.0.1";
            wevis.Gateway.Port = 0;
            wevis.Gateway.Messages = messages;
            wevis.Gateway.MaxConnectionsPerUser = 100;
        });
    });
    IHost host = builder.Build();
    await host.StartAsync();
    silos.Add(host);
}

int gateway = silos[0].Services.GetWevisGatewayPort();
await MeasureAsync("cluster, room on the gateway's node", gateway, roomMustBeOn: silos[0]);
await MeasureAsync("cluster, room on another node", gateway, roomMustBeOn: silos[1]);
foreach (IHost silo in Enumerable.Reverse(silos))
{
    await silo.StopAsync();
    silo.Dispose();
}

// The report: medians and tails, ratios against the single server, and the cost of each hop.
var report = new StringBuilder();
string stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
report.AppendLine(CultureInfo.InvariantCulture, $"# Cluster benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
report.AppendLine();
report.AppendLine(CultureInfo.InvariantCulture, $"{Environment.ProcessorCount} cores, .NET {Environment.Version}; {rounds} rounds each after {rounds / 10} warm-up; fan-out to {fanout} clients. All in one process: the silos talk over loopback TCP, so \"another node\" is a real Orleans network hop without a wire between machines.");
report.AppendLine();
report.AppendLine("| Target | Scenario | median µs | p90 µs | p99 µs | median vs single |");
report.AppendLine("|---|---|---|---|---|---|");
foreach (var (target, scenario, micros) in results)
{
    double baseline = Median(results.First(r => r.Target == "single server" && r.Scenario == scenario).Micros);
    report.AppendLine(CultureInfo.InvariantCulture, $"| {target} | {scenario} | {Median(micros):0.0} | {Percentile(micros, 0.90):0.0} | {Percentile(micros, 0.99):0.0} | {Median(micros) / baseline:0.00}x |");
}

double Rtt(string target) => Median(results.First(r => r.Target == target && r.Scenario.StartsWith("a)", StringComparison.Ordinal)).Micros);
double singleRtt = Rtt("single server");
double sameRtt = Rtt("cluster, room on the gateway's node");
double otherRtt = Rtt("cluster, room on another node");
report.AppendLine();
report.AppendLine("Cost per hop (from the round-trip medians; a round trip crosses each hop twice, in and out):");
report.AppendLine();
report.AppendLine(CultureInfo.InvariantCulture, $"- gateway to a room on the same node (grain call in, observer call out, the frame encoded again at the gateway): {(sameRtt - singleRtt) / 2:0.0} µs per crossing ({sameRtt - singleRtt:0.0} µs per round trip over the single server).");
report.AppendLine(CultureInfo.InvariantCulture, $"- gateway to a room on another node (the same, over the silo-to-silo connection): {(otherRtt - singleRtt) / 2:0.0} µs per crossing; the network hop alone adds {(otherRtt - sameRtt) / 2:0.0} µs per crossing over a room on the same node.");
Directory.CreateDirectory(outDir);
string file = Path.Combine(outDir, $"cluster-{stamp}.md");
await File.WriteAllTextAsync(file, report.ToString());
Console.Write(report);
Console.WriteLine($"Written to {file}");
return 0;

async Task MeasureAsync(string target, int port, IHost? roomMustBeOn)
{
    var clients = new List<Client>();
    try
    {
        for (int i = 0; i < fanout; i++)
        {
            var client = new Client($"c{i}", Password, "1", "127.0.0.1", port, new ClientOptions { Messages = messages });
            await client.ConnectAsync().WaitAsync(TimeSpan.FromSeconds(30));
            clients.Add(client);
        }

        // A room where it must be: make rooms until Orleans places one there (the rest go when left).
        string room = (await clients[0].CreateRoomAsync("bench").WaitAsync(TimeSpan.FromSeconds(30))).Id;
        for (int attempt = 0; roomMustBeOn is not null && !roomMustBeOn.Services.GetRequiredService<NodeRooms>().ActiveRooms.Contains(room); attempt++)
        {
            if (attempt > 50)
            {
                throw new InvalidOperationException($"Orleans placed no room where the benchmark needs it ({target}).");
            }

            room = (await clients[0].CreateRoomAsync("bench").WaitAsync(TimeSpan.FromSeconds(30))).Id;
        }

        foreach (Client client in clients.Skip(1))
        {
            await client.JoinRoomAsync(room).WaitAsync(TimeSpan.FromSeconds(30));
        }

        // a) Round trips, one at a time.
        var rtt = new double[rounds];
        for (int i = -rounds / 10; i < rounds; i++)
        {
            long started = Stopwatch.GetTimestamp();
            clients[0].Send(new Ping(i));
            await clients[0].WaitForAsync<Pong>().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            if (i >= 0)
            {
                rtt[i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
            }
        }

        results.Add((target, "a) round trip", rtt));

        // c) Fan-out: one message to everyone in the room, until the last has it.
        var fan = new double[rounds];
        for (int i = -rounds / 10; i < rounds; i++)
        {
            long started = Stopwatch.GetTimestamp();
            clients[0].Send(new Shout(i));
            await Task.WhenAll(clients.Select(c => c.WaitForAsync<Heard>().AsTask())).WaitAsync(TimeSpan.FromSeconds(30));
            if (i >= 0)
            {
                fan[i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
            }
        }

        results.Add((target, $"c) fan-out to {fanout}", fan));
        Console.WriteLine($"{target}: done");
    }
    finally
    {
        foreach (Client client in clients)
        {
            await client.DisposeAsync();
        }
    }
}

static double Median(double[] values) => Percentile(values, 0.5);

static double Percentile(double[] values, double p)
{
    double[] sorted = [.. values.Order()];
    return sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
}

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}

int IntArg(string name, int fallback) => int.Parse(StringArg(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

string StringArg(string name, string fallback)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
}
