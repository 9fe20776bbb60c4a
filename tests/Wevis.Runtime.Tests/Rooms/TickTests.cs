using Microsoft.Extensions.Time.Testing;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Messages;

namespace Wevis.Runtime.Tests.Rooms;

/// <summary>Rooms that tick, and timers, on a fake clock: the test moves time, and nothing waits for the real one.</summary>
public class TickTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    [Fact]
    public async Task ARoomTicksOncePerIntervalOfTheServersClockInOrder()
    {
        var clock = new FakeTimeProvider();
        await using TestServer server = await TestServer.StartInMemoryAsync(o => o.TimeProvider = clock);
        server.Server.Rooms.Define("ticking", () => new TickingRoom(holdMessages: false));
        var room = (TickingRoom)await server.Server.Rooms.CreateAsync("ticking", "clock");
        await using Client client = await server.ConnectAsync();
        await client.JoinRoomAsync("clock").WaitAsync(Bound);

        // One interval at a time: each tick sees one interval pass.
        for (long n = 1; n <= 10; n++)
        {
            clock.Advance(Interval);
            Assert.Equal(n, (await client.ReceiveAsync<TickReport>().AsTask().WaitAsync(Bound)).Number);
        }

        Assert.All(room.Ticks, tick => Assert.Equal(Interval, tick.Elapsed));

        // A whole second at once: ten more ticks, in order (the fake clock jumps, so they all see it at its end).
        clock.Advance(TimeSpan.FromSeconds(1));
        for (long n = 11; n <= 20; n++)
        {
            Assert.Equal(n, (await client.ReceiveAsync<TickReport>().AsTask().WaitAsync(Bound)).Number);
        }

        Assert.Equal(20, room.Ticks.Count);
        Assert.All(room.Ticks, tick => Assert.Equal(0, tick.Skipped));
        Assert.False(client.TryReceive(out _), "no tick without the clock moving");
    }

    [Fact]
    public async Task MessagesHeldForTheTickReachItInArrivalOrderAndNotTheHandler()
    {
        var clock = new FakeTimeProvider();
        await using TestServer server = await TestServer.StartInMemoryAsync(o => o.TimeProvider = clock);
        server.Server.Rooms.Define("ticking", () => new TickingRoom(holdMessages: true));
        var room = (TickingRoom)await server.Server.Rooms.CreateAsync("ticking", "clock");
        await using Client client = await server.ConnectAsync();
        await client.JoinRoomAsync("clock").WaitAsync(Bound);

        foreach (string text in new[] { "a", "b", "c", "d" })
        {
            client.Send(new Say(text));
        }

        // Move the clock one tick at a time until every message has been seen by a tick (they arrive while it moves).
        var seen = new List<string>();
        long expected = 1;
        while (seen.Count < 4)
        {
            Assert.True(expected < 1000, "the messages never reached a tick");
            clock.Advance(Interval);
            TickReport report = await client.ReceiveAsync<TickReport>().AsTask().WaitAsync(Bound);
            Assert.Equal(expected++, report.Number);
            seen.AddRange(report.Texts.Split(',', StringSplitOptions.RemoveEmptyEntries));
        }

        Assert.Equal(["a", "b", "c", "d"], seen);
        Assert.Equal(0, room.Handled);
    }

    [Fact]
    public async Task MessagesHeldForATickThatTheirSenderLeftBeforeGetTheRoomsLastTickWhenItIsDisposed()
    {
        var clock = new FakeTimeProvider();
        await using TestServer server = await TestServer.StartInMemoryAsync(o => o.TimeProvider = clock);
        server.Server.Rooms.Define("ticking", () => new TickingRoom(holdMessages: true));
        var room = (TickingRoom)await server.Server.Rooms.CreateAsync("ticking", "clock");
        await using Client client = await server.ConnectAsync();
        await client.JoinRoomAsync("clock").WaitAsync(Bound);
        var disposed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        room.Disposed = disposed;

        // Sent, then left before any tick: the room empties and is disposed (it disposes when empty by default).
        client.Send(new Say("last words"));
        await client.LeaveRoomAsync().WaitAsync(Bound);
        await disposed.Task.WaitAsync(Bound);

        RoomTick last = Assert.Single(room.Ticks);
        Assert.Equal(1, last.Number);
        Assert.Equal("last words", ((Say)Assert.Single(room.TickMessages)).Text);
        Assert.Equal(0, room.Handled);
    }

    [Fact]
    public async Task ARequestHeldForATickIsAnsweredWithAFailureWhenTheRoomIsDisposedWhileItsTicksAreStopped()
    {
        var clock = new FakeTimeProvider();
        await using TestServer server = await TestServer.StartInMemoryAsync(o => o.TimeProvider = clock);
        server.Server.Rooms.Define("pausing", () => new PausingRoom());
        await server.Server.Rooms.CreateAsync("pausing", "paused");
        await using Client client = await server.ConnectAsync();
        await client.JoinRoomAsync("paused").WaitAsync(Bound);

        // Held for the next tick; the asker leaves before it comes, and the room stops ticking as they do.
        Task<Requests.Answer> asking = client.RequestAsync(new Requests.Ask("still there?")).AsTask();
        await client.LeaveRoomAsync().WaitAsync(Bound);

        RequestFailedException failed = await Assert.ThrowsAsync<RequestFailedException>(() => asking.WaitAsync(Bound));
        Assert.Equal("the room paused was disposed while its ticks were stopped", failed.Reason);
    }

    [Fact]
    public async Task ScheduledActionsRunInTheRoomsTurnWhenTheClockReachesThemAndCanBeCancelled()
    {
        var clock = new FakeTimeProvider();
        await using TestServer server = await TestServer.StartInMemoryAsync(o => o.TimeProvider = clock);
        server.Server.Rooms.Define("timers", () => new TimerRoom());
        var room = (TimerRoom)await server.Server.Rooms.CreateAsync("timers", "timers");
        await using Client client = await server.ConnectAsync();
        await client.JoinRoomAsync("timers").WaitAsync(Bound);

        client.Send(new Say("start"));
        Assert.Equal("scheduled", (await client.ReceiveAsync<Said>().AsTask().WaitAsync(Bound)).Text);

        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("once", (await client.ReceiveAsync<Said>().AsTask().WaitAsync(Bound)).Text);
        Assert.Equal("every 0.5 s", (await client.ReceiveAsync<Said>().AsTask().WaitAsync(Bound)).Text);
        Assert.Equal("every 0.5 s", (await client.ReceiveAsync<Said>().AsTask().WaitAsync(Bound)).Text);

        client.Send(new Say("stop"));
        Assert.Equal("stopped", (await client.ReceiveAsync<Said>().AsTask().WaitAsync(Bound)).Text);
        clock.Advance(TimeSpan.FromSeconds(5));
        client.Send(new Say("after"));
        Assert.Equal(new Said("michael", "after"), await client.ReceiveAsync<Said>().AsTask().WaitAsync(Bound));
        Assert.Equal(3, room.Fired);
    }

    [Fact]
    public async Task TimersARoomSchedulesAsItGoesNeverFireAfterItIsDisposed()
    {
        var clock = new TestClock();
        await using TestServer server = await TestServer.StartInMemoryAsync(o => o.TimeProvider = clock);
        server.Server.Rooms.Define("parting", () => new PartingRoom());
        var room = (PartingRoom)await server.Server.Rooms.CreateAsync("parting", "parting");
        await using Client client = await server.ConnectAsync();
        await client.JoinRoomAsync("parting").WaitAsync(Bound);

        // The last user leaves: the leave hook schedules one timer, and the room, empty, is disposed; its disposed hook
        // schedules another, after the room has stopped its timers.
        await client.LeaveRoomAsync().WaitAsync(Bound);
        await server.Log.WaitForAsync(e => e.EventId.Id == 38 && e.Message.Contains("parting", StringComparison.Ordinal), Bound);
        Assert.True(room.ScheduledInDisposedHook);

        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(0, clock.FiredCount(PartingRoom.OnLeave));
        Assert.Equal(0, clock.FiredCount(PartingRoom.OnDispose));
        Assert.Equal(0, room.Fired);
    }

    [Fact]
    public async Task ATickThatFailsIsLoggedAndTheNextTickRuns()
    {
        var clock = new FakeTimeProvider();
        await using TestServer server = await TestServer.StartInMemoryAsync(o => o.TimeProvider = clock);
        server.Server.Rooms.Define("ticking", () => new TickingRoom(holdMessages: false) { FailOnTick = 2 });
        await server.Server.Rooms.CreateAsync("ticking", "clock");
        await using Client client = await server.ConnectAsync();
        await client.JoinRoomAsync("clock").WaitAsync(Bound);

        // One interval at a time, each tick's outcome awaited: a tick due while the room is busy would be skipped.
        clock.Advance(Interval);
        Assert.Equal(1, (await client.ReceiveAsync<TickReport>().AsTask().WaitAsync(Bound)).Number);
        clock.Advance(Interval);
        await server.Log.WaitForAsync(e => e.Level == Microsoft.Extensions.Logging.LogLevel.Error && e.Message.Contains("tick 2 failed", StringComparison.Ordinal), Bound);
        clock.Advance(Interval);
        Assert.Equal(3, (await client.ReceiveAsync<TickReport>().AsTask().WaitAsync(Bound)).Number);
    }

    [Fact]
    public async Task TicksDueWhileATickStillRunsBecomeOneTickWhenItEndsAndTheRestAreCountedAsSkipped()
    {
        var clock = new FakeTimeProvider();
        await using TestServer server = await TestServer.StartAsync(o => o.TimeProvider = clock);
        server.Server.Rooms.Define("slow", () => new SlowTickRoom());
        var room = (SlowTickRoom)await server.Server.Rooms.CreateAsync("slow", "slow");

        clock.Advance(Interval);
        await room.FirstTickStarted.Task.WaitAsync(Bound);

        // Three more ticks fall due while the first is still running: none runs meanwhile.
        clock.Advance(Interval * 3);
        Assert.Equal(1, room.TicksStarted);

        // When it ends, one tick runs at once for the three, counting two as skipped; the next is on time again.
        room.ReleaseFirstTick.SetResult();
        RoomTick second = await room.SecondTick.Task.WaitAsync(Bound);
        clock.Advance(Interval);
        RoomTick third = await room.ThirdTick.Task.WaitAsync(Bound);

        Assert.Equal(2, second.Number);
        Assert.Equal(2, second.Skipped);
        Assert.Equal(3, third.Number);
        Assert.Equal(0, third.Skipped);
        Assert.Equal(3, room.TicksStarted);
    }

    [Fact]
    public Task ATimerCancelledInTheRoomsTurnNeverRunsAfterThatThoughItFellDueMeanwhile() =>
        CancelledInTurnNeverRunsAsync(start: "schedule", started: "scheduled", due: TimeSpan.FromSeconds(1));

    [Fact]
    public Task TicksStoppedInTheRoomsTurnNeverRunAfterThatThoughOneFellDueMeanwhile() =>
        CancelledInTurnNeverRunsAsync(start: "tick", started: "ticking", due: Interval);

    /// <summary>
    /// Starts a timer or ticking (<paramref name="start"/>), then cancels it from a handler that holds the room's turn
    /// while the clock passes <paramref name="due"/>: what fell due meanwhile must not run after the cancel.
    /// </summary>
    private static async Task CancelledInTurnNeverRunsAsync(string start, string started, TimeSpan due)
    {
        var clock = new FakeTimeProvider();
        await using TestServer server = await TestServer.StartInMemoryAsync(o => o.TimeProvider = clock);
        server.Server.Rooms.Define("cancelling", () => new CancelInTurnRoom());
        var room = (CancelInTurnRoom)await server.Server.Rooms.CreateAsync("cancelling", "cancelling");
        await using Client client = await server.ConnectAsync();
        await client.JoinRoomAsync("cancelling").WaitAsync(Bound);

        client.Send(new Say(start));
        Assert.Equal(started, (await client.ReceiveAsync<Said>().AsTask().WaitAsync(Bound)).Text);

        // It falls due while the handler that cancels it holds the room's turn: it waits for the turn.
        client.Send(new Say("cancel"));
        await room.Inside.Task.WaitAsync(Bound);
        clock.Advance(due);
        room.Release.SetResult();
        Assert.Equal("cancelled", (await client.ReceiveAsync<Said>().AsTask().WaitAsync(Bound)).Text);

        // The next thing the room does is answer this, not run what was cancelled.
        client.Send(new Say("after"));
        Assert.Equal(new Said("michael", "after"), await client.ReceiveAsync<Said>().AsTask().WaitAsync(Bound));
    }

    private sealed class SlowTickRoom : Room
    {
        public TaskCompletionSource FirstTickStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource ReleaseFirstTick { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<RoomTick> SecondTick { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<RoomTick> ThirdTick { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int TicksStarted { get; private set; }

        protected override void OnCreated() => StartTicking(Interval);

        protected override async ValueTask OnTickAsync(RoomTick tick)
        {
            TicksStarted++;
            switch (tick.Number)
            {
                case 1:
                    FirstTickStarted.SetResult();
                    await ReleaseFirstTick.Task;
                    break;
                case 2:
                    SecondTick.SetResult(tick);
                    break;
                case 3:
                    ThirdTick.SetResult(tick);
                    break;
            }
        }
    }

    private sealed class TickingRoom(bool holdMessages) : Room
    {
        public List<RoomTick> Ticks { get; } = [];

        public int Handled { get; private set; }

        public long FailOnTick { get; init; }

        /// <summary>Every message a tick has seen, in order.</summary>
        public List<IMessage> TickMessages { get; } = [];

        /// <summary>Completed by the disposed hook.</summary>
        public TaskCompletionSource? Disposed { get; set; }

        protected override void OnCreated()
        {
            HandleMessagesOnTick = holdMessages;
            StartTicking(Interval);
        }

        protected override void Handle(Connection connection, IMessage message) => Handled++;

        protected override void OnTick(RoomTick tick)
        {
            Ticks.Add(tick);
            if (tick.Number == FailOnTick)
            {
                throw new InvalidOperationException("a tick that fails");
            }

            TickMessages.AddRange(tick.Messages.Select(m => m.Message));
            Broadcast(new TickReport(tick.Number, string.Join(',', tick.Messages.Select(m => ((Say)m.Message).Text))));
        }

        protected override void OnDisposed() => Disposed?.TrySetResult();
    }

    /// <summary>Holds messages for its ticks, and stops ticking when a user leaves.</summary>
    private sealed class PausingRoom : Room
    {
        protected override void OnCreated()
        {
            HandleMessagesOnTick = true;
            StartTicking(Interval);
        }

        protected override void OnUserLeave(Connection connection) => StopTicking();
    }

    private sealed class TimerRoom : Room
    {
        private IDisposable? _repeating;

        public int Fired { get; private set; }

        protected override void Handle(Connection connection, IMessage message)
        {
            switch (message)
            {
                case Say("start"):
                    Schedule(TimeSpan.FromMilliseconds(300), () => Tell("once"));
                    _repeating = ScheduleRepeating(TimeSpan.FromMilliseconds(500), () => Tell("every 0.5 s"));
                    connection.Send(new Said("room", "scheduled"));
                    break;
                case Say("stop"):
                    _repeating?.Dispose();
                    connection.Send(new Said("room", "stopped"));
                    break;
                case Say(string text):
                    connection.Send(new Said(connection.User.Name, text));
                    break;
            }
        }

        private void Tell(string text)
        {
            Fired++;
            Broadcast(new Said("room", text));
        }
    }

    /// <summary>A room that schedules repeating timers in its last user's leave hook and in its disposed hook.</summary>
    private sealed class PartingRoom : Room
    {
        public static readonly TimeSpan OnLeave = TimeSpan.FromSeconds(7);
        public static readonly TimeSpan OnDispose = TimeSpan.FromSeconds(11);
        private int _fired;

        public int Fired => Volatile.Read(ref _fired);

        public bool ScheduledInDisposedHook { get; private set; }

        protected override void OnUserLeave(Connection connection) => ScheduleRepeating(OnLeave, () => Interlocked.Increment(ref _fired));

        protected override void OnDisposed()
        {
            ScheduleRepeating(OnDispose, () => Interlocked.Increment(ref _fired));
            ScheduledInDisposedHook = true;
        }
    }

    /// <summary>A room whose "cancel" handler, holding the turn, waits for the test before it cancels its timer and its ticks.</summary>
    private sealed class CancelInTurnRoom : Room
    {
        private IDisposable? _timer;

        public TaskCompletionSource Inside { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async ValueTask HandleAsync(Connection connection, IMessage message)
        {
            switch (message)
            {
                case Say("schedule"):
                    _timer = Schedule(TimeSpan.FromSeconds(1), () => Broadcast(new Said("room", "fired")));
                    connection.Send(new Said("room", "scheduled"));
                    break;
                case Say("tick"):
                    StartTicking(Interval);
                    connection.Send(new Said("room", "ticking"));
                    break;
                case Say("cancel"):
                    Inside.SetResult();
                    await Release.Task;
                    _timer?.Dispose();
                    StopTicking();
                    connection.Send(new Said("room", "cancelled"));
                    break;
                case Say(string text):
                    connection.Send(new Said(connection.User.Name, text));
                    break;
            }
        }

        protected override void OnTick(RoomTick tick) => Broadcast(new Said("room", $"tick {tick.Number}"));
    }
}
