using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Wevis;
using Wevis.ClusterBench;
using Wevis.LoadTest.Driver;
using Wevis.LoadTest.Servers;
using Wevis.Orleans;

// The load test's a), c) and f) through a room on a single server, on the cluster node that is the clients' gateway,
// and on another node, in one run (bench/README.md). Usage:
//   dotnet run -c Release --project bench/Wevis.ClusterBench -- [--quick] [--rounds N] [--only acf] [--targets sgo] [--seconds N] [--resumable] [--out DIR]
// --seconds N measures c) and f) for N seconds each (for profiling one target: --only c --targets o --seconds 20;
// the process id is printed first, for perf record -p).
// --resumable: every client asks for a resumable session (ClientOptions.ResumeSessions), so the rooms keep a copy
// of each frame they send and the gateway forwards acknowledgements (what resuming at another gateway costs).
// The load test's sizes and times (its --quick too: f) with 10 and 100 clients), for its a), c) and f).
LoadTestSettings settings = args.Contains("--quick") ? LoadTestSettings.QuickRun : LoadTestSettings.Full;
settings = settings with
{
    Rounds = int.Parse(Option("--rounds") ?? settings.Rounds.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture),
    Only = Option("--only") ?? "acf",
};
string targetLetters = Option("--targets") ?? "sgo";
bool resumable = args.Contains("--resumable");
TimeSpan runLimit = TimeSpan.FromMinutes(settings.Quick ? 3 : 15);
if (Option("--seconds") is string seconds)
{
    TimeSpan measure = TimeSpan.FromSeconds(double.Parse(seconds, CultureInfo.InvariantCulture));
    settings = settings with { ClientsMeasure = measure, FanOutMeasure = measure };
}

string outDir = Option("--out") ?? (settings.Quick ? Path.Combine("artifacts", "clusterbench") : Path.Combine("bench", "results"));
_ = Task.Delay(runLimit).ContinueWith(_ =>
{
    Console.Error.WriteLine($"The cluster benchmark did not finish within {runLimit.TotalMinutes:0} minutes.");
    Environment.Exit(3);
}, TaskScheduler.Default);

Console.WriteLine($"pid {Environment.ProcessId}");
double loadBefore = LoadAverage();
FileDescriptors descriptors = FileDescriptors.Read();
int largest = settings.Runs('f') ? settings.FanOutClients.Max() : settings.Clients;
string descriptorNote = Invariant($"Open files: soft limit {descriptors.SoftLimit:N0}, {descriptors.Open} open at the start. Every client here takes two descriptors in this one process (its socket and the server's or gateway's end), so about {descriptors.ClientsAllowed(perClient: 2):N0} clients fit at once; the largest phase holds {targetLetters.Length} rooms of {largest:N0} ({targetLetters.Length * largest * 2:N0} descriptors).");
Console.WriteLine(descriptorNote);

// The single server, and the cluster: two silos in this process, localhost clustering, each a gateway.
var single = new WevisBenchServer();
await single.StartAsync(0);
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
            wevis.Login = static (name, password, salt, _) => Credentials.Verify(password, WevisBenchServer.Password, salt) ? new User(name) : "wrong password";
            wevis.EntryRoom = static () => new TimeRoom();
            wevis.Define(Target.RoomType, static () => new TimeRoom());
            wevis.Gateway.Host = "127.0.0.1";
            wevis.Gateway.Port = 0;

            // As the load test's server: thousands log in at once from one address.
            wevis.Gateway.ListenBacklog = 4096;
            wevis.Gateway.MaxPendingLogins = 4096;
        });
    });
    IHost host = builder.Build();
    await host.StartAsync();
    silos.Add(host);
}

int gateway = silos[0].Services.GetWevisGatewayPort();
Target[] targets = [.. new[]
{
    new Target("single server", 's', single.Port, null, resumable),
    new Target("cluster, room on the same node", 'g', gateway, silos[0], resumable),
    new Target("cluster, room on another node", 'o', gateway, silos[1], resumable),
}.Where(t => targetLetters.Contains(t.Letter))];

var results = new ClusterResults();
try
{
    await new ClusterScenarios(settings, targets, results, Console.Out).RunAsync();
}
finally
{
    await single.DisposeAsync();
    foreach (IHost silo in Enumerable.Reverse(silos))
    {
        await silo.StopAsync();
        silo.Dispose();
    }
}

string header = Invariant($"{Environment.ProcessorCount} cores, .NET {Environment.Version}, load average {loadBefore:0.00} before and {LoadAverage():0.00} after (1-minute; other work shares the machine). Everything in one process: the single server, two Orleans silos (localhost clustering; they talk over loopback TCP, so \"another node\" is a real Orleans network hop without a wire between machines) and every client. {descriptorNote}{(resumable ? " **Resumable sessions** (`--resumable`): every client sets `ClientOptions.ResumeSessions`; the single server and the gateways allow resume (default grace period, 30 s)." : "")}");
string report = ClusterReport.Write(settings, targets, results, header);
Directory.CreateDirectory(outDir);
string file = Path.Combine(outDir, $"cluster-{DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}{(resumable ? "-resumable" : "")}{(settings.Quick ? "-quick" : "")}.md");
await File.WriteAllTextAsync(file, report);
Console.Write(report);
Console.WriteLine($"Written to {file}");
return 0;

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}

static double LoadAverage() =>
    File.Exists("/proc/loadavg") && double.TryParse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture, out double value) ? value : double.NaN;

static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

string? Option(string name)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
}
