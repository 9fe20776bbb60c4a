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

// Through a room on a single server, on a cluster's node that is also the client's gateway, and on another node, in
// one run: a) round trips (one client, one message at a time) and f) fan-out (one message broadcast to a room of N,
// timed until the last receiver has it), both in interleaved blocks (every cycle measures a block of each target,
// in a rotating order, so drift in the machine's load falls on all three alike), and c) many clients' round trips
// (aggregate rate, each target in turn). Usage:
//   dotnet run -c Release --project bench/Wevis.ClusterBench -- [--rounds 3000] [--cycles 10] [--fanout 8] [--clients 100] [--seconds 3] [--out bench/results]
int rounds = IntArg("--rounds", 3000);
int cycles = IntArg("--cycles", 10);
int fanout = IntArg("--fanout", 8);
int manyClients = IntArg("--clients", 100);
double seconds = IntArg("--seconds", 3);
string outDir = StringArg("--out", Path.Combine("bench", "results"));
const string Password = "bench";
MessageRegistry messages = WevisRegistry.Messages;
LoginValidator login = (name, password, salt, version) => Credentials.Verify(password, Password, salt) ? new User(name) : "wrong password";
double load = LoadAverage();

// The single server, and the cluster: two silos in this process, localhost clustering, each a gateway.
var single = new Server(login, new BenchLobby(), new ServerOptions { Host = "127.0.0.1", Port = 0, Messages = messages });
single.Rooms.Define<BenchRoom>("bench");
await single.StartAsync();
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
        });
    });
    IHost host = builder.Build();
    await host.StartAsync();
    silos.Add(host);
}

int gateway = silos[0].Services.GetWevisGatewayPort();
Target[] targets =
[
    await Target.OpenAsync("single server", "s", single.Port, fanout, null),
    await Target.OpenAsync("cluster, room on the gateway's node", "g", gateway, fanout, silos[0]),
    await Target.OpenAsync("cluster, room on another node", "o", gateway, fanout, silos[1]),
];

// Warm-up, then a) and f) in interleaved blocks.
foreach (Target target in targets)
{
    await target.RoundTripsAsync(rounds / 10, null);
    await target.FanOutsAsync(rounds / 10, null);
}

int block = Math.Max(1, rounds / cycles);
for (int cycle = 0; cycle < cycles; cycle++)
{
    for (int k = 0; k < targets.Length; k++)
    {
        Target target = targets[(cycle + k) % targets.Length];
        await target.RoundTripsAsync(block, target.Rtt);
        await target.FanOutsAsync(block, target.Fan);
    }
}

// c) Many clients in each target's room, each in strict request/response for a fixed time.
var rates = new List<(string Target, double PerSecond, double P99)>();
foreach (Target target in targets)
{
    (double perSecond, double p99) = await target.ManyClientsAsync(manyClients, seconds);
    rates.Add((target.Name, perSecond, p99));
}

foreach (Target target in targets)
{
    await target.DisposeAsync();
}

await single.StopAsync();
foreach (IHost silo in Enumerable.Reverse(silos))
{
    await silo.StopAsync();
    silo.Dispose();
}

// The report.
var report = new StringBuilder();
string stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
report.AppendLine(CultureInfo.InvariantCulture, $"# Cluster benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
report.AppendLine();
report.AppendLine(CultureInfo.InvariantCulture, $"{Environment.ProcessorCount} cores, .NET {Environment.Version}, load average {load:0.0} before and {LoadAverage():0.0} after. All in one process: the two silos talk over loopback TCP, so \"another node\" is a real Orleans network hop without a wire between machines. a) and f): {rounds} of each per target after {rounds / 10} warm-up, in {cycles} cycles of interleaved blocks; the ratio is the median over cycles of the block medians' ratio to the single server's block in the same cycle.");
report.AppendLine();
report.AppendLine("| Target | Scenario | median µs | p90 µs | p99 µs | ratio to single (paired) |");
report.AppendLine("|---|---|---|---|---|---|");
foreach ((string scenario, Func<Target, List<double[]>> blocks) in new (string, Func<Target, List<double[]>>)[] { ("a) round trip", t => t.Rtt), ($"f) fan-out to {fanout}", t => t.Fan) })
{
    foreach (Target target in targets)
    {
        double[] all = [.. blocks(target).SelectMany(b => b)];
        double ratio = Median([.. blocks(target).Zip(blocks(targets[0]), (b, s) => Median(b) / Median(s))]);
        report.AppendLine(CultureInfo.InvariantCulture, $"| {target.Name} | {scenario} | {Median(all):0.0} | {Percentile(all, 0.90):0.0} | {Percentile(all, 0.99):0.0} | {ratio:0.00}x |");
    }
}

report.AppendLine();
report.AppendLine(CultureInfo.InvariantCulture, $"c) {manyClients} clients in the room, each in strict request/response for {seconds:0} s (targets in turn, not interleaved):");
report.AppendLine();
report.AppendLine("| Target | round trips/s | p99 µs | vs single |");
report.AppendLine("|---|---|---|---|");
foreach (var (name, perSecond, p99) in rates)
{
    report.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {perSecond:0} | {p99:0} | {perSecond / rates[0].PerSecond:0.00}x |");
}

double PairedDifference(Target a, Target b) => Median([.. a.Rtt.Zip(b.Rtt, (x, y) => Median(x) - Median(y))]);
double sameOverSingle = PairedDifference(targets[1], targets[0]);
double otherOverSame = PairedDifference(targets[2], targets[1]);
report.AppendLine();
report.AppendLine("Cost per hop (paired differences of the round-trip block medians; a round trip crosses each hop twice, in and out):");
report.AppendLine();
report.AppendLine(CultureInfo.InvariantCulture, $"- gateway to a room on the same node (grain call in, observer call out, the frame encoded again at the gateway): {sameOverSingle / 2:0.0} µs per crossing ({sameOverSingle:0.0} µs per round trip over the single server).");
report.AppendLine(CultureInfo.InvariantCulture, $"- the network hop to a room on another node: {otherOverSame / 2:0.0} µs more per crossing ({otherOverSame:0.0} µs per round trip over a room on the gateway's node).");
Directory.CreateDirectory(outDir);
string file = Path.Combine(outDir, $"cluster-{stamp}.md");
await File.WriteAllTextAsync(file, report.ToString());
Console.Write(report);
Console.WriteLine($"Written to {file}");
return 0;

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

static double LoadAverage() =>
    File.Exists("/proc/loadavg") && double.TryParse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture, out double value) ? value : double.NaN;

int IntArg(string name, int fallback) => int.Parse(StringArg(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

string StringArg(string name, string fallback)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
}
