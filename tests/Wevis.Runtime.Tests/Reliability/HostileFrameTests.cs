using Example;
using MessagePack;
using Microsoft.Extensions.Logging;
using Wevis.Protocol;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Networking;
using Wevis.Serialization;
using Xunit.Abstractions;

namespace Wevis.Runtime.Tests.Reliability;

/// <summary>
/// Hostile frames against a live server, each from its own connection while a healthy client works alongside:
/// only the offending connection is closed, with its reason logged as a warning, and the server allocates
/// nothing on the attacker's say-so.
/// </summary>
/// <remarks>
/// Memory is measured as the bytes the whole test process allocates (<see cref="GC.GetTotalAllocatedBytes(bool)"/>,
/// precise) from just before the attack is sent until the server has closed the connection, logged it and
/// forgotten it, and the healthy client has made its round trips. The server runs in this process and these
/// tests run alone; each attack is made once unmeasured first, so one-time initialisation is not counted.
/// Measured: typically 5-50 KB per attack, with occasional spikes to ~300 KB from the test host's own work
/// (reporting the previous test's results). The bound, 1 MiB, is far below what obeying a hostile length would
/// cost (2-4 GiB for the 2^31 and 2^32-1 prefixes).
/// </remarks>
[Collection(AllocationMeasurement.Name)]
public class HostileFrameTests(ITestOutputHelper output)
{
    private const int MaxFrameSize = 64 * 1024;
    private const long AllocationBound = 1024 * 1024;

    /// <summary>Round trips the healthy client must complete while an attack is under way (it pauses half-sent until they have).</summary>
    private const int MinimumRoundTripsDuringAttack = 3;

    private static readonly int YouAreId = WireId(new YouAre("x"));
    private static readonly int SomeFloatsId = WireId(new SomeFloats([], []));
    private static readonly int ItIsId = WireId(new ItIs(0, 0));

    /// <summary>Every attack: whether it comes after a login, the bytes, whether the peer then hangs up, and the reason the server must log.</summary>
    private static readonly Dictionary<string, Attack> s_attacks = new()
    {
        ["length over the login limit"] = new(false, RawPeerFaults.Prefixed(4097, new byte[100]), "Received a frame of 4097 bytes, over the limit of 4096 bytes."),
        ["length over the frame limit"] = new(true, RawPeerFaults.Prefixed(MaxFrameSize + 1, new byte[100]), $"Received a frame of {MaxFrameSize + 1} bytes, over the limit of {MaxFrameSize} bytes."),
        ["length 2^31, no body, before login"] = new(false, RawPeerFaults.Prefixed(0x8000_0000), "Received a frame of 2147483648 bytes"),
        ["length 2^32-1, no body, after login"] = new(true, RawPeerFaults.Prefixed(0xFFFF_FFFF), "Received a frame of 4294967295 bytes"),
        ["zero-length frame"] = new(true, RawPeerFaults.Prefixed(0), "Received a frame of length 0"),
        ["frame cut off mid-body, then a disconnect"] = new(true, RawPeerFaults.Prefixed(100, new byte[50]), "The connection ended in the middle of a frame (54 byte(s) of it arrived).", HangUp: true),
        ["random bytes"] = new(false, RandomBytes(1000, seed: 6), null),
        ["random bytes after login"] = new(true, RandomBytes(1000, seed: 7), null),
        ["a body that is not MessagePack"] = new(true, RawPeer.Frame([0xc1, 0xc1, 0xc1]), "A message body must be a MessagePack array"),
        ["a body that is a MessagePack map"] = new(true, RawPeer.Frame([0x81, 0x01, 0x02]), "must be a MessagePack array"),
        ["a body with bytes after the message"] = new(true, RawPeer.Frame([.. Pack(WireId(new WhoAmI())), 0x00]), "1 byte(s) follow its last argument"),
        ["too few arguments"] = new(true, RawPeer.Frame(Pack(ItIsId, 1)), "A ItIs message has 2 argument(s) (ItIs hours=int minutes=int) but the data holds 1."),
        ["too many arguments"] = new(true, RawPeer.Frame(Pack(ItIsId, 1, 2, 3)), "but the data holds 3"),
        ["an argument of the wrong type"] = new(true, RawPeer.Frame(Pack(ItIsId, "one", 2)), "argument 'hours' must be int, but the data holds a string"),
        ["a string length beyond the frame"] = new(true, RawPeer.Frame([0x92, 0xce, .. BigEndian(YouAreId), 0xdb, 0x7f, 0xff, 0xff, 0xff, (byte)'a']), "Malformed YouAre message"),
        ["a bin length beyond the frame"] = new(true, RawPeer.Frame([0x93, 0xce, .. BigEndian(SomeFloatsId), 0xc6, 0xff, 0xff, 0xff, 0xfc, 0, 0, 0, 0]), "Malformed SomeFloats message"),
        ["an array length beyond the frame"] = new(true, RawPeer.Frame([0x93, 0xce, .. BigEndian(SomeFloatsId), 0xdd, 0x7f, 0xff, 0xff, 0xff, 0xca, 0, 0, 0, 0]), "Malformed SomeFloats message"),
        ["an unknown message id"] = new(true, RawPeer.Frame(Pack(12345)), "Unknown message wire id 12345"),
        ["a login after logging in"] = new(true, RawPeer.Frame(new Login("michael", "x", TestServer.Version, WevisRegistry.Messages.Fingerprint)), "sent the protocol message _Login after logging in"),
        ["a welcome after logging in"] = new(true, RawPeer.Frame(new Welcome(1, "salt", "print")), "sent the protocol message _Welcome after logging in"),
        ["a login result from the client"] = new(true, RawPeer.Frame(new LoginAccepted()), "sent the protocol message _LoginAccepted after logging in"),
        ["an application message before login"] = new(false, RawPeer.Frame(new WhoAmI()), "expected a login message but received WhoAmI"),
        ["a malformed login"] = new(false, RawPeer.Frame(Pack(WireId(new Login("", "", "", "")), 1, 2, 3, 4)), "Malformed _Login message"),
        ["an argument over its bound, in a small frame"] = new(
            true,
            RawPeer.Frame(Pack(WireId(new Lobby.Talk("x")), new string('x', 201))),
            "Received a Talk message whose argument 'text' holds 201 bytes, over its bound of 200 (text=str(200))."),
        ["a frame longer than its message's bound"] = new(
            true,
            RawPeerFaults.Prefixed(60_000, [0x92, 0xce, .. BigEndian(WireId(new Lobby.Join("x"))), 0xda, 0xea, 0x5a]),
            "Received a frame of 60000 bytes for a Join message, whose body is at most 51 bytes (client: Join room=str(32) -> Joined | RoomFull)."),
        ["a message only the server sends"] = new(true, RawPeer.Frame(new Lobby.RoomFull("lobby")), "sent RoomFull, which only the server sends"),
        ["a request envelope holding a message that is not a request"] = new(
            true,
            RawPeer.Frame([0x93, 0xce, .. BigEndian(Envelopes.Request.WireId), 0x01, .. MessageSerializer.ToBytes(new Requests.Answer("no"))]),
            "Answer was sent as a request, but it is not one: its definition names no replies (server: Answer text=str(64))."),
        ["a reply envelope from a client"] = new(true, RawPeer.Frame(new ReplyEnvelope(1, new Requests.Answer("no"))), "sent the protocol message _Reply after logging in"),
        ["a request envelope longer than its request's bound"] = new(
            true,
            RawPeerFaults.Prefixed(60_000, [0x93, 0xce, .. BigEndian(Envelopes.Request.WireId), 0x01, 0x92, 0xce, .. BigEndian(WireId(new Requests.Ask("x"))), 0xda, 0xea]),
            "Received a frame of 60000 bytes for a Ask message, whose body is at most 106 bytes (client: Ask question=str(64) -> Answer)."),
    };

    public static TheoryData<string> Attacks => [.. s_attacks.Keys];

    [Theory]
    [MemberData(nameof(Attacks))]
    public async Task AHostileFrameClosesOnlyItsConnectionWithALoggedReason(string name)
    {
        Attack attack = s_attacks[name];
        await using TestServer server = await TestServer.StartAsync(o =>
        {
            o.MaxFrameSize = MaxFrameSize;
            o.LoginTimeout = TimeSpan.FromSeconds(2);
        });
        await using Client healthy = await server.ConnectAsync("user1", "pw");
        await RoundTripAsync(healthy);

        // Once to warm up (first-time initialisation would count as allocation), then measured.
        await WarmUpAsync(server, attack);
        using RawPeer peer = await ConnectAttackerAsync(server, attack);
        using var attacking = new CancellationTokenSource();
        var roundTrips = new RoundTripCounter();
        Task alongside = roundTrips.RunAsync(healthy, attacking.Token);
        long before = 0;

        // The healthy client's round trips are counted from the attack's first byte until the server has closed
        // the attacker, logged why and forgotten it; the attack pauses half-sent until a few have completed.
        // Allocation is measured from the end of the pause, when the bytes that make the frame hostile go out.
        int atStart = roundTrips.Count;
        (List<IMessage> received, LogEntry warning) = await AttackAsync(server, attack, peer, async () =>
        {
            await roundTrips.WaitForAsync(atStart + MinimumRoundTripsDuringAttack);
            before = AllocationMeasurement.AllocatedBytes();
        });
        int duringAttack = roundTrips.Count - atStart;
        attacking.Cancel();
        await alongside.Within();
        await RoundTripAsync(healthy);
        long allocated = AllocationMeasurement.AllocatedBytes() - before;

        output.WriteLine($"{allocated,9:N0} bytes allocated: {name}: closed with \"{warning.Message}\"; {duringAttack} healthy round trip(s) during the attack");
        if (!attack.HangUp)
        {
            // The server says why before closing (a peer that hung up cannot hear it).
            string reason = Assert.IsType<Closing>(Assert.Single(received, m => m is Closing)).Reason;
            Assert.Contains(reason, warning.Message, StringComparison.Ordinal);
        }

        Assert.True(duringAttack >= MinimumRoundTripsDuringAttack, $"the healthy client made {duringAttack} round trip(s) during the attack");
        Assert.True(healthy.IsConnected);
        Assert.Equal(1, server.Room.Count);
        Assert.True(allocated < AllocationBound, $"{allocated:N0} bytes were allocated while handling the attack (bound {AllocationBound:N0})");
        Assert.Equal(attack.AfterLogin ? 2 : 0, server.Room.LeftCount("michael"));
    }

    private static async Task<RawPeer> ConnectAttackerAsync(TestServer server, Attack attack)
    {
        RawPeer peer = server.CreateRawPeer();
        if (attack.AfterLogin)
        {
            Assert.IsType<LoginAccepted>(await peer.LoginAsync().Within());
            Assert.IsType<ServerReady>(await peer.ReceiveAsync().Within());
        }
        else
        {
            Assert.IsType<Welcome>(await peer.ReceiveAsync().Within());
        }

        return peer;
    }

    /// <summary>Makes the attack once from a connection of its own, unmeasured.</summary>
    private static async Task WarmUpAsync(TestServer server, Attack attack)
    {
        using RawPeer peer = await ConnectAttackerAsync(server, attack);
        await AttackAsync(server, attack, peer, () => Task.CompletedTask);
    }

    /// <summary>Attacks and waits until the server has closed the connection, logged why and forgotten it.</summary>
    private static async Task<(List<IMessage> Received, LogEntry Warning)> AttackAsync(TestServer server, Attack attack, RawPeer peer, Func<Task> halfway)
    {
        HashSet<LogEntry> earlier = [.. server.Log.Entries.Where(IsViolation)];

        // The first two bytes, then a pause (the server holds part of a frame from the attacker meanwhile), then the rest.
        await peer.SendRawAsync(attack.Bytes[..2]).Within();
        await halfway();
        await peer.SendRawAsync(attack.Bytes[2..]).Within();
        if (attack.HangUp)
        {
            peer.EndSending();
        }

        List<IMessage> received = await peer.ReceiveUntilClosedAsync(TimeSpan.FromSeconds(10)).Within();
        LogEntry warning = await server.Log.WaitForAsync(e => IsViolation(e) && !earlier.Contains(e));
        await ExampleExchangeTests.WaitUntilAsync(() => server.Server.ConnectionCount == 1 && server.Server.PendingLogins == 0);
        return (received, warning);

        bool IsViolation(LogEntry e) => e.Level == LogLevel.Warning && e.EventId.Id == 12
            && (attack.Reason is null || e.Message.Contains(attack.Reason, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ManyHostileConnectionsAtOnceLeaveTheHealthyOnesAlone()
    {
        await using TestServer server = await TestServer.StartAsync(o =>
        {
            o.MaxFrameSize = MaxFrameSize;
            o.MaxConnectionsPerUser = 100;
        });
        Client[] healthy = await Task.WhenAll(Enumerable.Range(0, 5).Select(i => server.ConnectAsync($"user{i}", "pw")));
        Attack[] attacks = [.. s_attacks.Values];

        await Task.WhenAll(Enumerable.Range(0, 60).Select(async i =>
        {
            Attack attack = attacks[i % attacks.Length];
            using RawPeer peer = server.CreateRawPeer();
            if (attack.AfterLogin)
            {
                Assert.IsType<LoginAccepted>(await peer.LoginAsync("user99", "pw"));
            }

            await peer.SendRawAsync(attack.Bytes);
            if (attack.HangUp)
            {
                peer.EndSending();
            }

            await peer.ReceiveUntilClosedAsync(TimeSpan.FromSeconds(10));
        })).Within();

        await ExampleExchangeTests.WaitUntilAsync(() => server.Server.ConnectionCount == healthy.Length && server.Server.PendingLogins == 0);
        foreach (Client client in healthy)
        {
            await RoundTripAsync(client);
            await client.DisposeAsync().Within();
        }

        Assert.Equal(60, server.Log.Entries.Count(e => e.EventId.Id == 12));
        Assert.Equal(0, server.Server.ConnectionsOf("user99"));
    }

    private static async Task RoundTripAsync(Client client)
    {
        client.Send(new WhoAmI());
        Assert.Equal(client.Username, (await client.ReceiveAsync<YouAre>().Within()).Name);
    }

    /// <summary>A healthy client's round trips, one after another with a short pause, counted as they complete.</summary>
    private sealed class RoundTripCounter
    {
        private readonly Lock _lock = new();
        private int _count;
        private TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Count => Volatile.Read(ref _count);

        public async Task RunAsync(Client client, CancellationToken stop)
        {
            while (!stop.IsCancellationRequested)
            {
                await RoundTripAsync(client);
                TaskCompletionSource completed;
                lock (_lock)
                {
                    _count++;
                    completed = _completed;
                    _completed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }

                completed.TrySetResult();
                try
                {
                    await Task.Delay(5, stop);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }

        /// <summary>Waits (bounded) until <paramref name="count"/> round trips have completed.</summary>
        public async Task WaitForAsync(int count)
        {
            while (true)
            {
                Task completed;
                lock (_lock)
                {
                    if (_count >= count)
                    {
                        return;
                    }

                    completed = _completed.Task;
                }

                await completed.Within(what: $"round trip {count} of the healthy client while an attack was half-sent");
            }
        }
    }

    private static int WireId(IMessage message) => message.Descriptor.WireId;

    /// <summary>A MessagePack array of <paramref name="items"/>: a body shaped as the attack needs.</summary>
    private static byte[] Pack(params object[] items) => MessagePackSerializer.Serialize(items);

    private static byte[] RandomBytes(int length, int seed)
    {
        byte[] bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static byte[] BigEndian(int value) =>
        [(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value];

    private sealed record Attack(bool AfterLogin, byte[] Bytes, string? Reason, bool HangUp = false);
}
