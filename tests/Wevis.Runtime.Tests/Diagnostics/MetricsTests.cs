using System.Diagnostics;
using System.Net.Sockets;
using Example;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Wevis.Protocol;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Messages;
using Wevis.Runtime.Tests.Rooms;

namespace Wevis.Runtime.Tests.Diagnostics;

/// <summary>
/// The server's instruments, heard through a <see cref="System.Diagnostics.Metrics.MeterListener"/> while a script
/// of logins, messages, rooms, ticks and a peer that does not read plays out: each moves as it should.
/// </summary>
public class MetricsTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private const string Type = "wevis.message.type";
    private const string RoomType = "wevis.room.type";

    [Fact]
    public async Task ConnectionsSessionsLoginsMessagesBytesAndHandlerTimesMoveWithAScriptedSession()
    {
        using var metrics = new MetricsRecorder();
        await using TestServer server = await TestServer.StartAsync(o => o.MeterFactory = metrics.Factory);
        Assert.Equal(0, metrics.Observe("wevis.server.active_connections"));
        Assert.Equal(0, metrics.Observe("wevis.server.active_sessions"));
        Assert.Equal(1, metrics.Observe("wevis.server.rooms", (RoomType, "lobby")));

        // A wrong password, then a fingerprint from other definitions: two rejections, each with its class.
        await using (Client wrong = server.CreateClient(password: "wrong"))
        {
            await Assert.ThrowsAsync<LoginRejectedException>(() => wrong.ConnectAsync().WaitAsync(Bound));
        }

        using (RawPeer stranger = server.CreateRawPeer())
        {
            Assert.IsType<LoginRejected>(await stranger.LoginAsync(fingerprint: "0123"));
        }

        Assert.Equal(1, metrics.Sum("wevis.server.logins", ("wevis.login.result", "rejected"), ("error.type", "invalid_credentials")));
        Assert.Equal(1, metrics.Sum("wevis.server.logins", ("wevis.login.result", "rejected"), ("error.type", "fingerprint_mismatch")));
        Assert.Equal(0, metrics.Sum("wevis.server.logins", ("wevis.login.result", "accepted")));

        // A login: one accepted, one connection, one session; the room's welcome counted as sent.
        await using Client client = await server.ConnectAsync();
        Assert.Equal(1, metrics.Sum("wevis.server.logins", ("wevis.login.result", "accepted")));
        Assert.Equal(1, metrics.Observe("wevis.server.active_connections"));
        Assert.Equal(1, metrics.Observe("wevis.server.active_sessions"));
        Assert.Equal(1, metrics.Sum("wevis.server.messages.sent", (Type, "ServerReady")));

        // Three questions: each counted in, by type, with its bytes; each answer counted out; each handler timed.
        for (int i = 0; i < 3; i++)
        {
            client.Send(new WhatTimeIsIt());
            await client.ReceiveAsync<ItIs>().AsTask().WaitAsync(Bound);
        }

        int questionFrame = RawPeer.Frame(new WhatTimeIsIt()).Length;
        int answerFrame = RawPeer.Frame(new ItIs(DateTime.Now.Hour, DateTime.Now.Minute)).Length;
        Assert.Equal(3, metrics.Sum("wevis.server.messages.received", (Type, "WhatTimeIsIt")));
        Assert.Equal(3 * questionFrame, metrics.Sum("wevis.server.bytes.received", (Type, "WhatTimeIsIt")));
        Assert.Equal(3, metrics.Sum("wevis.server.messages.sent", (Type, "ItIs")));
        Assert.Equal(3 * answerFrame, metrics.Sum("wevis.server.bytes.sent", (Type, "ItIs")));
        Assert.Equal(3, metrics.Count("wevis.server.handler.duration", (RoomType, "lobby"), (Type, "WhatTimeIsIt")));
        Assert.All(metrics.Values("wevis.server.handler.duration"), seconds => Assert.InRange(seconds, 0, 30));

        // The protocol's own messages are counted under their names too.
        Assert.True(metrics.Sum("wevis.server.messages.received", (Type, "_Login")) >= 2);
        Assert.Equal(1, metrics.Sum("wevis.server.messages.sent", (Type, "_LoginAccepted")));

        // Gone: no connection, no session.
        await client.DisposeAsync();
        await server.Log.WaitForAsync(e => e.Message.Contains("(michael) closed, 0 still open", StringComparison.Ordinal));
        Assert.Equal(0, metrics.Observe("wevis.server.active_connections"));
        Assert.Equal(0, metrics.Observe("wevis.server.active_sessions"));
    }

    [Fact]
    public async Task LoginsRefusedForTheUserLimitTheValidatorTheTimeoutOrTheThrottleAreCountedUnderTheirClasses()
    {
        using var metrics = new MetricsRecorder();
        var clock = new TestClock();
        var slowStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        AsyncLoginValidator validator = async (username, password, salt, version, cancellationToken) =>
        {
            switch (username)
            {
                case "boom":
                    throw new InvalidOperationException("the user store is down");
                case "slow":
                    slowStarted.TrySetResult();
                    await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
                    break;
            }

            return TestServer.Validate(username, password, salt, version);
        };
        await using TestServer server = await TestServer.StartAsync(
            o =>
            {
                o.MeterFactory = metrics.Factory;
                o.MaxFailedLoginsPerAddress = 2;
            },
            validator: validator,
            clock: clock);
        double Rejected(string errorType) => metrics.Sum("wevis.server.logins", ("wevis.login.result", "rejected"), ("error.type", errorType));

        // A second connection of a user who may have one.
        await using Client first = await server.ConnectAsync();
        await using (Client second = server.CreateClient())
        {
            await Assert.ThrowsAsync<LoginRejectedException>(() => second.ConnectAsync().WaitAsync(Bound));
        }

        Assert.Equal(1, Rejected("too_many_connections"));

        // A validator that throws.
        await using (Client boom = server.CreateClient("boom", "pw"))
        {
            await Assert.ThrowsAsync<LoginRejectedException>(() => boom.ConnectAsync().WaitAsync(Bound));
        }

        Assert.Equal(1, Rejected("validator_failed"));

        // A validator still checking when the login timeout passes on the server's clock (the connection's own login
        // timeout falls due at the same moment, so the client may hear either; the count says which it was).
        await using (Client slow = server.CreateClient("slow", "pw"))
        {
            Task connecting = slow.ConnectAsync();
            await slowStarted.Task.WaitAsync(Bound);
            clock.Advance(new ServerOptions().LoginTimeout);
            await Assert.ThrowsAnyAsync<WevisException>(() => connecting.WaitAsync(Bound));
            await Networking.ExampleExchangeTests.WaitUntilAsync(() => Rejected("timeout") == 1);
        }

        // Two wrong passwords from this address, and then even the right one is refused until the window passes.
        for (int i = 0; i < 2; i++)
        {
            await using Client wrong = server.CreateClient("user1", "wrong");
            await Assert.ThrowsAsync<LoginRejectedException>(() => wrong.ConnectAsync().WaitAsync(Bound));
        }

        await using (Client refused = server.CreateClient("user1", "pw"))
        {
            await Assert.ThrowsAsync<LoginRejectedException>(() => refused.ConnectAsync().WaitAsync(Bound));
        }

        Assert.Equal(2, Rejected("invalid_credentials"));
        Assert.Equal(1, Rejected("throttled"));
        Assert.Equal(0, Rejected("fingerprint_mismatch"));
        Assert.Equal(1, metrics.Sum("wevis.server.logins", ("wevis.login.result", "accepted")));
    }

    [Fact]
    public async Task RoomsAreCountedByTypeBroadcastsPerRecipientAndTicksAreTimed()
    {
        using var spanRecorder = new SpanRecorder();
        System.Collections.Concurrent.ConcurrentQueue<Activity> spans = spanRecorder.Spans;
        using var metrics = new MetricsRecorder();
        var clock = new FakeTimeProvider();
        await using TestServer server = await TestServer.StartAsync(o =>
        {
            o.MeterFactory = metrics.Factory;
            o.TimeProvider = clock;
        });
        server.Server.Rooms.Define("chat", () => new ChatRoom());
        server.Server.Rooms.Define("ticking", () => new TickingRoom());
        await server.Server.Rooms.CreateAsync("chat", "chat-1");
        await server.Server.Rooms.CreateAsync("chat", "chat-2");
        // Other tests' servers tick too: this room's spans are told apart by its id.
        string tickingId = $"ticking-{Guid.NewGuid():N}";
        var ticking = (TickingRoom)await server.Server.Rooms.CreateAsync("ticking", tickingId);
        Assert.Equal(1, metrics.Observe("wevis.server.rooms", (RoomType, "lobby")));
        Assert.Equal(2, metrics.Observe("wevis.server.rooms", (RoomType, "chat")));
        Assert.Equal(1, metrics.Observe("wevis.server.rooms", (RoomType, "ticking")));

        // A broadcast to three users: encoded once, counted once per recipient.
        var clients = new List<Client>();
        for (int i = 0; i < 3; i++)
        {
            Client client = await server.ConnectAsync($"user{i}", "pw");
            await client.JoinRoomAsync("chat-1").WaitAsync(Bound);
            clients.Add(client);
        }

        clients[0].Send(new Say("hello"));
        foreach (Client client in clients)
        {
            Assert.Equal("hello", (await client.WaitForAsync<Said>().AsTask().WaitAsync(Bound)).Text);
        }

        Assert.Equal(3, metrics.Sum("wevis.server.messages.sent", (Type, "Said")));
        Assert.Equal(3 * RawPeer.Frame(new Said("user0", "hello")).Length, metrics.Sum("wevis.server.bytes.sent", (Type, "Said")));
        Assert.Equal(1, metrics.Count("wevis.server.handler.duration", (RoomType, "chat"), (Type, "Say")));

        // Three ticks on the fake clock: three tick durations, under the room's type.
        for (int i = 1; i <= 3; i++)
        {
            clock.Advance(TickingRoom.Interval);
            await ticking.Ticked.Reader.ReadAsync().AsTask().WaitAsync(Bound);
        }

        await ExampleExchange.UntilAsync(() => metrics.Count("wevis.server.room.tick.duration", (RoomType, "ticking")) == 3);

        // Each tick is a span too, with its room and number.
        Activity[] ticks = [];
        await Networking.ExampleExchangeTests.WaitUntilAsync(() => (ticks = [.. spans.Where(s => s.OperationName == "wevis.tick" && (string?)s.GetTagItem("wevis.room.id") == tickingId)]).Length == 3);
        Assert.Equal([1L, 2L, 3L], ticks.Select(s => Convert.ToInt64(s.GetTagItem("wevis.tick.number"), System.Globalization.CultureInfo.InvariantCulture)).Order());
        Assert.All(ticks, s => Assert.Equal("ticking", (string?)s.GetTagItem(RoomType)));

        // When the last user leaves chat-1 it is disposed, and the count of chat rooms goes down (chat-2, never
        // entered, stays).
        foreach (Client client in clients)
        {
            await client.DisposeAsync();
        }

        await Networking.ExampleExchangeTests.WaitUntilAsync(() => metrics.Observe("wevis.server.rooms", (RoomType, "chat")) == 1);
        Assert.Equal(1, metrics.Observe("wevis.server.rooms", (RoomType, "ticking")));
        Assert.Equal(1, metrics.Observe("wevis.server.rooms", (RoomType, "lobby")));
    }

    [Fact]
    public async Task APeerThatDoesNotReadShowsInTheQueueDepthThenAsOneOverflow()
    {
        const long cap = 16L * 1024 * 1024;
        using var metrics = new MetricsRecorder();
        var room = new TimeRoom();
        await using TestServer server = await TestServer.StartAsync(
            o =>
            {
                o.MeterFactory = metrics.Factory;
                o.MaxFrameSize = 128 * 1024;
                o.MaxQueuedBytesPerConnection = cap;
            },
            room);
        using RawPeer peer = server.CreateRawPeer();
        Assert.IsType<LoginAccepted>(await peer.LoginAsync());

        // 64 KB replies, never read: about 12.5 MB fill the socket buffers, then the queue, which shows in its depth.
        // Both are gauges of the moment, read one after the other: while the room is still answering, the socket may
        // take the queue's bytes between two readings (it did, on a loaded machine: "0 not in range"). So wait for a
        // pair of readings that agree (one connection: its queue is the deepest and the whole) and show at least a
        // megabyte queued (the kernel's buffers for a peer that reads nothing hold a few), which a gauge that missed
        // the queue, or part of it, would never give.
        byte[] request = RawPeer.Frame(new PleaseMayIHaveSomeFloats(0, 8_000));
        for (int i = 0; i < 200; i++)
        {
            await peer.SendRawAsync(request);
        }

        long deepest = 0;
        await ExampleExchange.UntilAsync(() =>
        {
            deepest = metrics.Observe("wevis.server.send_queue.max_size");
            return deepest >= 1024 * 1024 && metrics.Observe("wevis.server.send_queue.size") == deepest;
        });
        Assert.InRange(deepest, 1024 * 1024, cap);
        Assert.Equal(0, metrics.Sum("wevis.server.send_queue.overflows"));

        // About 19 MB more: over the cap, the connection is dropped, once.
        try
        {
            for (int i = 0; i < 300; i++)
            {
                await peer.SendRawAsync(request);
            }
        }
        catch (SocketException)
        {
            // Dropped before all were sent.
        }

        await server.Log.WaitForAsync(e => e.Level == LogLevel.Warning && e.Message.Contains("bytes were queued for sending", StringComparison.Ordinal));
        Assert.Equal(1, metrics.Sum("wevis.server.send_queue.overflows"));
        await server.Log.WaitForAsync(e => e.Message.Contains("(michael) closed, 0 still open", StringComparison.Ordinal));
        Assert.Equal(0, metrics.Observe("wevis.server.send_queue.size"));
        Assert.True(metrics.Sum("wevis.server.messages.sent", (Type, "SomeFloats")) >= 1);
    }

    [Fact]
    public async Task MessagesSentToAClosedConnectionAreCountedAsDroppedByTheirType()
    {
        using var metrics = new MetricsRecorder();
        var room = new SendsAfterClosingRoom();
        await using TestServer server = await TestServer.StartAsync(o => o.MeterFactory = metrics.Factory, room);
        await using Client client = await server.ConnectAsync();
        Assert.Equal(0, metrics.Sum("wevis.server.messages.dropped"));

        // The room closes the connection, then answers on it: both answers are dropped (one of variable size, one of
        // fixed size, which are queued by different paths), counted under their types, and neither counted as sent.
        client.Send(new WhoAmI());
        ConnectionClosedException closed = await Assert.ThrowsAsync<ConnectionClosedException>(() => client.ReceiveAsync().AsTask().WaitAsync(Bound));
        Assert.Contains(SendsAfterClosingRoom.Reason, closed.Message, StringComparison.Ordinal);
        // The farewell can reach the client before the handler's next line runs: wait for the handler to be done.
        await room.Answered.Task.WaitAsync(Bound);

        Assert.Equal(1, metrics.Sum("wevis.server.messages.dropped", (Type, "YouAre")));
        Assert.Equal(1, metrics.Sum("wevis.server.messages.dropped", (Type, "ItIs")));
        Assert.Equal(2, metrics.Sum("wevis.server.messages.dropped"));
        Assert.Equal(0, metrics.Sum("wevis.server.messages.sent", (Type, "YouAre")));
        Assert.Equal(0, metrics.Sum("wevis.server.messages.sent", (Type, "ItIs")));
    }

    [Fact]
    public async Task EachLoginAndEachHandledMessageIsASpanWhenSomethingListens()
    {
        using var spanRecorder = new SpanRecorder();
        System.Collections.Concurrent.ConcurrentQueue<Activity> spans = spanRecorder.Spans;
        using var metrics = new MetricsRecorder();
        await using TestServer server = await TestServer.StartAsync(o => o.MeterFactory = metrics.Factory);
        await using Client client = await server.ConnectAsync("user42", "pw");
        client.Send(new WhoAmI());
        await client.ReceiveAsync<YouAre>().AsTask().WaitAsync(Bound);

        // Other tests' servers run meanwhile: pick this one's spans by the message only this test sends as user42.
        Assert.Contains(spans, s => s.OperationName == "wevis.login" && (string?)s.GetTagItem("wevis.login.result") == "accepted");
        Assert.Contains(spans, s => s.OperationName == "wevis.handle" && s.DisplayName == "handle WhoAmI"
            && (string?)s.GetTagItem(Type) == "WhoAmI" && (string?)s.GetTagItem(RoomType) == "lobby" && s.Duration > TimeSpan.Zero);
    }

    /// <summary>A time room that answers <c>WhoAmI</c> by closing the connection first, then sending on it.</summary>
    private sealed class SendsAfterClosingRoom : TimeRoom
    {
        public const string Reason = "closed before the answer";

        /// <summary>Completes once the handler has sent its answers on the closed connection.</summary>
        public TaskCompletionSource Answered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override void Handle(Connection connection, IMessage message)
        {
            if (message is not WhoAmI)
            {
                base.Handle(connection, message);
                return;
            }

            connection.Close(Reason);
            connection.Send(new YouAre(connection.User.Name));
            connection.Send(new ItIs(12, 0));
            Answered.TrySetResult();
        }
    }

    /// <summary>A room that ticks every 100 ms of the server's clock and says when each tick has run.</summary>
    private sealed class TickingRoom : Room
    {
        public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

        public System.Threading.Channels.Channel<long> Ticked { get; } = System.Threading.Channels.Channel.CreateUnbounded<long>();

        protected override void OnCreated() => StartTicking(Interval);

        protected override void OnTick(RoomTick tick) => Ticked.Writer.TryWrite(tick.Number);
    }

    private static class ExampleExchange
    {
        public static Task UntilAsync(Func<bool> condition) => Networking.ExampleExchangeTests.WaitUntilAsync(condition);
    }

    /// <summary>Records every span of Wevis's activity source that stops while it is alive.</summary>
    private sealed class SpanRecorder : IDisposable
    {
        private readonly ActivityListener _listener;

        public SpanRecorder()
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == WevisDiagnostics.ActivitySourceName,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = Spans.Enqueue,
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public System.Collections.Concurrent.ConcurrentQueue<Activity> Spans { get; } = new();

        public void Dispose() => _listener.Dispose();
    }
}
