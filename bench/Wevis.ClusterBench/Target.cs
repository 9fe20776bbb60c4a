using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Wevis.LoadTest.Clients;
using Wevis.Orleans;

namespace Wevis.ClusterBench;

/// <summary>
/// One place a room can be: the single server's entry room, or a room of <see cref="RoomType"/> that Orleans placed
/// on <paramref name="node"/> (the client's gateway's node, or another). Every client connects to
/// <paramref name="port"/>; the cluster's all go through one gateway. With <paramref name="resumable"/> every client
/// asks for a resumable session (<see cref="ClientOptions.ResumeSessions"/>; the single server and the gateways allow
/// resume with their default <see cref="ServerOptions.ResumeGracePeriod"/> of 30 s), so the rooms keep a copy of each
/// frame they send and the gateway forwards acknowledgements to them.
/// </summary>
internal sealed class Target(string name, char letter, int port, IHost? node, bool resumable = false)
{
    /// <summary>The cluster's room type: the load test's room.</summary>
    public const string RoomType = "time";

    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);
    private int _rooms;

    public string Name => name;

    /// <summary>s, g or o (the <c>--targets</c> letters).</summary>
    public char Letter => letter;

    /// <summary>
    /// Connects <paramref name="count"/> clients and puts them all in one room of this target: the single server's
    /// entry room (a round trip confirms each is in it), or a fresh room on the target's node.
    /// </summary>
    public async Task<WevisBenchClient[]> ConnectRoomAsync(int count, int concurrency)
    {
        string prefix = $"{letter}{++_rooms}-";
        WevisBenchClient first = await WevisBenchClient.ConnectAsync(port, prefix + "0", Options()).WaitAsync(Bound).ConfigureAwait(false);
        string? room = node is null ? null : await PlaceRoomAsync(first).ConfigureAwait(false);
        using var gate = new SemaphoreSlim(concurrency);
        WevisBenchClient[] others = await Task.WhenAll(Enumerable.Range(1, count - 1).Select(async i =>
        {
            await gate.WaitAsync().ConfigureAwait(false);
            try
            {
                WevisBenchClient client = await WevisBenchClient.ConnectAsync(port, prefix + i, Options()).ConfigureAwait(false);
                if (room is null)
                {
                    await client.JoinFanOutAsync().ConfigureAwait(false);
                }
                else
                {
                    await client.Client.JoinRoomAsync(room).ConfigureAwait(false);
                }

                return client;
            }
            finally
            {
                gate.Release();
            }
        })).WaitAsync(Bound).ConfigureAwait(false);
        return [first, .. others];
    }

    /// <summary>Makes rooms until Orleans places one on the target's node (the others go when their creator leaves them).</summary>
    private async Task<string> PlaceRoomAsync(WevisBenchClient creator)
    {
        NodeRooms rooms = node!.Services.GetRequiredService<NodeRooms>();
        for (int attempt = 0; attempt < 100; attempt++)
        {
            string room = (await creator.Client.CreateRoomAsync(RoomType).WaitAsync(Bound).ConfigureAwait(false)).Id;
            if (rooms.ActiveRooms.Contains(room))
            {
                return room;
            }
        }

        throw new InvalidOperationException($"Orleans placed no room where the benchmark needs it ({name}).");
    }

    private ClientOptions? Options() => resumable ? new ClientOptions { ResumeSessions = true } : null;

    public static async Task DisposeAllAsync(IEnumerable<WevisBenchClient> clients) =>
        await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask())).WaitAsync(Bound).ConfigureAwait(false);
}
