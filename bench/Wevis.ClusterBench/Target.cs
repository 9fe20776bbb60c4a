using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Wevis.ClusterBench.Messages;
using Wevis.Orleans;

namespace Wevis.ClusterBench;

/// <summary>One place a room can be: a bench room there with its clients, and the figures measured through it.</summary>
internal sealed class Target(string name, string prefix, int port, List<Client> clients, string room) : IAsyncDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    public string Name => name;

    /// <summary>Round-trip blocks, in µs.</summary>
    public List<double[]> Rtt { get; } = [];

    /// <summary>Fan-out blocks, in µs.</summary>
    public List<double[]> Fan { get; } = [];

    /// <summary>Connects <paramref name="fanout"/> clients to <paramref name="port"/> and puts them in a bench room, on <paramref name="node"/> if given.</summary>
    public static async Task<Target> OpenAsync(string name, string prefix, int port, int fanout, IHost? node)
    {
        var clients = new List<Client>();
        for (int i = 0; i < fanout; i++)
        {
            clients.Add(await ConnectAsync($"{prefix}{i}", port));
        }

        // A room where it must be: make rooms until Orleans places one there (the others go when left).
        string room = (await clients[0].CreateRoomAsync("bench").WaitAsync(Bound)).Id;
        for (int attempt = 0; node is not null && !node.Services.GetRequiredService<NodeRooms>().ActiveRooms.Contains(room); attempt++)
        {
            if (attempt > 100)
            {
                throw new InvalidOperationException($"Orleans placed no room where the benchmark needs it ({name}).");
            }

            room = (await clients[0].CreateRoomAsync("bench").WaitAsync(Bound)).Id;
        }

        foreach (Client client in clients.Skip(1))
        {
            await client.JoinRoomAsync(room).WaitAsync(Bound);
        }

        return new Target(name, prefix, port, clients, room);
    }

    public async Task RoundTripsAsync(int count, List<double[]>? into)
    {
        var micros = new double[count];
        for (int i = 0; i < count; i++)
        {
            long started = Stopwatch.GetTimestamp();
            clients[0].Send(new Ping(i));
            await clients[0].WaitForAsync<Pong>().AsTask().WaitAsync(Bound);
            micros[i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
        }

        into?.Add(micros);
    }

    public async Task FanOutsAsync(int count, List<double[]>? into)
    {
        var micros = new double[count];
        for (int i = 0; i < count; i++)
        {
            long started = Stopwatch.GetTimestamp();
            clients[0].Send(new Shout(i));
            await Task.WhenAll(clients.Select(c => c.WaitForAsync<Heard>().AsTask())).WaitAsync(Bound);
            micros[i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
        }

        into?.Add(micros);
    }

    /// <summary>Brings the room to <paramref name="total"/> clients, each in strict request/response for <paramref name="seconds"/>: round trips/s and p99 µs.</summary>
    public async Task<(double PerSecond, double P99)> ManyClientsAsync(int total, double seconds)
    {
        for (int i = clients.Count; i < total; i++)
        {
            Client client = await ConnectAsync($"{prefix}{i}", port);
            clients.Add(client);
            await client.JoinRoomAsync(room).WaitAsync(Bound);
        }

        long until = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        List<double>[] each = [.. clients.Select(_ => new List<double>())];
        await Task.WhenAll(clients.Select((client, n) => Task.Run(async () =>
        {
            for (int seq = 0; Stopwatch.GetTimestamp() < until; seq++)
            {
                long started = Stopwatch.GetTimestamp();
                client.Send(new Ping(seq));
                await client.WaitForAsync<Pong>().AsTask().WaitAsync(Bound);
                each[n].Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
            }
        })));
        double[] all = [.. each.SelectMany(list => list).Order()];
        return (all.Length / seconds, all[Math.Min(all.Length - 1, (int)(0.99 * all.Length))]);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (Client client in clients)
        {
            await client.DisposeAsync();
        }
    }

    private static async Task<Client> ConnectAsync(string user, int port)
    {
        var client = new Client(user, "bench", "1", "127.0.0.1", port, new ClientOptions { Messages = WevisRegistry.Messages });
        await client.ConnectAsync().WaitAsync(Bound);
        return client;
    }
}
