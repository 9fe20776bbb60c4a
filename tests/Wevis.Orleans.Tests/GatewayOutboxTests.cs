using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Wevis.Tests.Shared;

namespace Wevis.Orleans.Tests;

/// <summary>
/// The records a room's outbox makes for one gateway: a broadcast to many of its users carries its frame once, with
/// their session numbers; what the gateway reads back is every frame to every session, in the order it was added.
/// </summary>
public sealed class GatewayOutboxTests
{
    private const int Sessions = 100;
    private const int Broadcasts = 16;

    [Fact]
    public async Task ABroadcastToManySessionsIsOneRecordWithTheFrameOnce()
    {
        var gateway = new HeldGateway();
        var outbox = new GatewayOutbox("room", "gateway", gateway, NullLogger.Instance);
        var expected = new Expected();
        for (int n = 0; n < Broadcasts; n++)
        {
            byte[] frame = Frame($"message {n} to everyone");
            for (long session = 1; session <= Sessions; session++)
            {
                outbox.AddFrame(session, frame);
                expected.Frame(session, frame);
            }
        }

        gateway.Release();
        await outbox.DrainAsync().Within();

        // Each call can cut one run in two; without repeats there would be one record per session per frame.
        int frameSize = Frame("message 10 to everyone").Length;
        int calls = gateway.Calls.Count;
        int records = gateway.Calls.Sum(CountRecords);
        int bytes = gateway.Calls.Sum(call => call.Length);
        int maxBytes = ((Broadcasts + calls - 1) * (GatewayRecords.FrameHeadSize + frameSize + 4)) + (Broadcasts * Sessions * 8);
        Assert.True(
            records <= Broadcasts + calls - 1 && bytes <= maxBytes,
            $"{Broadcasts} broadcasts to {Sessions} sessions took {records} records and {bytes} bytes in {calls} calls (at most {Broadcasts + calls - 1} records and {maxBytes} bytes expected)");
        Assert.Equal(expected.BySession, Decode(gateway.Calls));
    }

    [Fact]
    public async Task FramesToOneSessionBetweenBroadcastsKeepEachSessionsOrder()
    {
        var gateway = new HeldGateway();
        var outbox = new GatewayOutbox("room", "gateway", gateway, NullLogger.Instance);
        var expected = new Expected();
        void Add(long session, byte[] frame)
        {
            outbox.AddFrame(session, frame);
            expected.Frame(session, frame);
        }

        for (int n = 0; n < 40; n++)
        {
            byte[] broadcast = Frame($"all {n % 3}"); // the same bytes again every third round
            for (long session = 1; session <= 5; session++)
            {
                Add(session, broadcast);
            }

            Add(1 + (n % 5), Frame($"just you {n}"));
            Add(2, broadcast); // the broadcast again, to one session, right after another frame
            Add(2, broadcast);
            if (n % 7 == 0)
            {
                outbox.AddClose(9, $"close {n}");
                expected.Other(9, $"close {n}");
                outbox.AddMove(3, new ClusterMove("room", $"target {n}", "chat", "moved"));
                expected.Other(3, $"move target {n}");
            }

            if (n == 20)
            {
                // Let a call go out mid-way, so a run may be cut between calls.
                gateway.Release();
            }
        }

        gateway.Release();
        await outbox.DrainAsync().Within();
        Assert.Equal(expected.BySession, Decode(gateway.Calls));
    }

    [Fact]
    public async Task ACallWhoseAnswerDidNotComeIsMadeAgainWithItsNumberWhileTheGatewayLives()
    {
        var gateway = new LosingGateway(lose: 2);
        bool gone = false;
        var outbox = new GatewayOutbox("room", "gateway", gateway, NullLogger.Instance, () => Volatile.Read(ref gone));
        outbox.AddFrame(1, Frame("one"));
        await outbox.DrainAsync().Within();
        outbox.AddFrame(1, Frame("two"));
        await outbox.DrainAsync().Within();

        // Both lost answers were followed by the same call again (same stream, same number), then the next number.
        Assert.False(outbox.IsDead);
        Assert.Equal([1, 1, 1, 2], gateway.Calls.Select(call => call.Number));
        Assert.All(gateway.Calls, call => Assert.Equal(outbox.Stream, call.Stream));
        Assert.Equal(["one", "one", "one", "two"], gateway.Calls.Select(call => Decode([call.Records])[1].Single()));

        // A gateway whose silo is dead or leaving is not called again: the outbox stops.
        gateway.Lose(1);
        Volatile.Write(ref gone, true);
        outbox.AddFrame(1, Frame("three"));
        await outbox.DrainAsync().Within();
        Assert.True(outbox.IsDead);
        Assert.Equal(5, gateway.Calls.Count);
    }

    [Fact]
    public async Task ACallMadeAgainWaitsOnTheClockTheOutboxIsGiven()
    {
        var gateway = new LosingGateway(lose: 1);
        var clock = new SignalingClock();
        var outbox = new GatewayOutbox("room", "gateway", gateway, NullLogger.Instance, () => false, time: clock);
        outbox.AddFrame(1, Frame("one"));

        // The lost call's wait is started on this clock, and the call is made again only once it has run out.
        await clock.TimerStarted.WaitAsync(TimeSpan.FromSeconds(10));
        clock.Advance(TimeSpan.FromMilliseconds(99));
        Assert.Single(gateway.Calls);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        await outbox.DrainAsync().Within();
        Assert.Equal([1, 1], gateway.Calls.Select(call => call.Number));
    }

    [Fact]
    public async Task WhatWaitsForALivingGatewayThatTakesNoCallsIsLetGoOnceOlderThanTheAgeBoundOnTheOutboxsClock()
    {
        TimeSpan maxAge = TimeSpan.FromSeconds(10);
        var gateway = new LosingGateway(lose: int.MaxValue);
        var clock = new SignalingClock();
        var told = new TaskCompletionSource<GatewayOutbox>(TaskCreationOptions.RunContinuationsAsynchronously);
        var outbox = new GatewayOutbox("room", "gateway", gateway, NullLogger.Instance, () => false, overflowed: told.SetResult, time: clock, maxAge: maxAge);
        DateTimeOffset start = clock.GetUtcNow();
        outbox.AddFrame(1, Frame("one"));

        // Every call times out and is made again, on this clock advanced 2 s (the longest wait) at a time, until the
        // frame is older than the bound: the outbox holds it until then, and then stops, lets it go and tells the room.
        while (!told.Task.IsCompleted)
        {
            Task waited = await Task.WhenAny(clock.TimerStarted.WaitAsync(), told.Task).Within();
            if (waited == told.Task)
            {
                break;
            }

            Assert.False(outbox.IsDead, $"the outbox stopped after {clock.GetUtcNow() - start}");
            Assert.True(outbox.Backlog > 0);
            Assert.True(clock.GetUtcNow() - start < maxAge, "the outbox still held the frame past the age bound");
            outbox.AddFrame(2, Frame("later")); // newer records do not make the oldest younger
            clock.Advance(TimeSpan.FromSeconds(2));
        }

        Assert.Same(outbox, await told.Task.Within());
        Assert.Equal(maxAge, clock.GetUtcNow() - start);
        Assert.True(outbox.IsDead && outbox.Expired && outbox.Overflowed);
        Assert.Equal(0, outbox.Backlog);

        // Nothing more is sent to that gateway.
        int calls = gateway.Calls.Count;
        outbox.AddFrame(1, Frame("two"));
        await outbox.DrainAsync().Within();
        Assert.Equal(calls, gateway.Calls.Count);
    }

    [Fact]
    public void MalformedRecordsThrowInvalidDataExceptionWithoutAllocatingWhatTheyClaim()
    {
        var valid = new ArrayBufferWriter<byte>();
        GatewayRecords.WriteFrame(valid, 1, Frame("hello"));
        GatewayRecords.EndRepeat(valid, 0, [2, 3, 4]);
        GatewayRecords.WriteClose(valid, 5, "bye");
        GatewayRecords.WriteMove(valid, 6, new ClusterMove("a", "b", "c", "d"));
        byte[] bytes = valid.WrittenSpan.ToArray();

        // Cut anywhere: the records before the cut are read, then a clear error (not an index out of range).
        var boundaries = new HashSet<int>();
        ReadOnlySpan<byte> rest = bytes;
        while (!rest.IsEmpty)
        {
            GatewayRecords.Read(ref rest);
            boundaries.Add(bytes.Length - rest.Length);
        }

        for (int cut = 1; cut < bytes.Length; cut++)
        {
            byte[] cutOff = bytes[..cut];
            if (!boundaries.Contains(cut))
            {
                Assert.Throws<InvalidDataException>(() => ReadAll(cutOff));
            }
        }

        // A repeat that claims more sessions than there are bytes for, or than a record may list.
        byte[] huge = (byte[])bytes.Clone();
        int countAt = GatewayRecords.FrameHeadSize + Frame("hello").Length;
        BinaryPrimitives.WriteInt32LittleEndian(huge.AsSpan(countAt), int.MaxValue);
        Assert.Throws<InvalidDataException>(() => ReadAll(huge));

        // A frame longer than the records, a negative length, an unknown kind.
        byte[] longFrame = (byte[])bytes.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(longFrame.AsSpan(9), int.MaxValue);
        Assert.Throws<InvalidDataException>(() => ReadAll(longFrame));
        byte[] negative = (byte[])bytes.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(negative.AsSpan(9), -5);
        Assert.Throws<InvalidDataException>(() => ReadAll(negative));
        byte[] unknown = (byte[])bytes.Clone();
        unknown[0] = 200;
        Assert.Throws<InvalidDataException>(() => ReadAll(unknown));
    }

    private static void ReadAll(byte[] records)
    {
        ReadOnlySpan<byte> rest = records;
        while (!rest.IsEmpty)
        {
            GatewayRecords.Read(ref rest);
        }
    }

    /// <summary>A frame as a room's encoder makes it (a 4-byte length, then a body); the body is text, to read failures.</summary>
    private static byte[] Frame(string text)
    {
        byte[] body = Encoding.UTF8.GetBytes(text);
        var frame = new byte[4 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, body.Length);
        body.CopyTo(frame, 4);
        return frame;
    }

    private static int CountRecords(byte[] records)
    {
        int count = 0;
        ReadOnlySpan<byte> rest = records;
        while (!rest.IsEmpty)
        {
            GatewayRecords.Read(ref rest);
            count++;
        }

        return count;
    }

    /// <summary>What each session gets, in order, from the calls as the gateway reads them.</summary>
    private static Dictionary<long, List<string>> Decode(IEnumerable<byte[]> calls)
    {
        var bySession = new Dictionary<long, List<string>>();
        void Add(long session, string what)
        {
            if (!bySession.TryGetValue(session, out List<string>? list))
            {
                bySession[session] = list = [];
            }

            list.Add(what);
        }

        foreach (byte[] call in calls)
        {
            ReadOnlySpan<byte> rest = call;
            while (!rest.IsEmpty)
            {
                GatewayRecord record = GatewayRecords.Read(ref rest);
                switch (record.Kind)
                {
                    case GatewayRecords.Frame:
                        Add(record.Session, Encoding.UTF8.GetString(record.Frame[4..]));
                        break;
                    case GatewayRecords.Repeat:
                        string text = Encoding.UTF8.GetString(record.Frame[4..]);
                        Add(record.Session, text);
                        for (int i = 0; i < record.MoreCount; i++)
                        {
                            Add(record.More(i), text);
                        }

                        break;
                    case GatewayRecords.Close:
                        Add(record.Session, record.Reason!);
                        break;
                    case GatewayRecords.Move:
                        Add(record.Session, "move " + record.Move!.Target);
                        break;
                }
            }
        }

        return bySession;
    }

    private sealed class Expected
    {
        public Dictionary<long, List<string>> BySession { get; } = [];

        public void Frame(long session, byte[] frame) => Other(session, Encoding.UTF8.GetString(frame, 4, frame.Length - 4));

        public void Other(long session, string what)
        {
            if (!BySession.TryGetValue(session, out List<string>? list))
            {
                BySession[session] = list = [];
            }

            list.Add(what);
        }
    }

    /// <summary>
    /// A gateway that holds its first call until released, so what the test adds meanwhile piles up as it does
    /// during a real call; it keeps a copy of each call's records.
    /// </summary>
    private sealed class HeldGateway : IGatewayObserver
    {
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<byte[]> Calls { get; } = [];

        public void Release() => _released.TrySetResult();

        public async Task Receive(long stream, long number, byte[] records)
        {
            lock (Calls)
            {
                Calls.Add(records);
            }

            await _released.Task;
        }

        public Task HandOver(long session) => Task.CompletedTask;
    }

    /// <summary>A gateway that takes every call but answers the first few with a timeout, as when their answers are lost.</summary>
    private sealed class LosingGateway(int lose) : IGatewayObserver
    {
        private int _lose = lose;

        public List<(long Stream, long Number, byte[] Records)> Calls { get; } = [];

        public void Lose(int calls) => Volatile.Write(ref _lose, calls);

        public Task Receive(long stream, long number, byte[] records)
        {
            lock (Calls)
            {
                Calls.Add((stream, number, records));
            }

            return Interlocked.Decrement(ref _lose) >= 0 ? Task.FromException(new TimeoutException("the answer was lost")) : Task.CompletedTask;
        }

        public Task HandOver(long session) => Task.CompletedTask;
    }
}
