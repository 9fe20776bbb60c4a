using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Wevis.Transport;

namespace Wevis.Runtime.Tests.Resume;

/// <summary>The replay log alone: frames in order across the ring's end, dropped by acknowledgements, bounded.</summary>
public class ReplayLogTests
{
    [Fact]
    public void WhatThePeerHasNotAcknowledgedIsReplayedInOrderAcrossTheRingsEnd()
    {
        var log = new ReplayLog(1024 * 1024);
        int next = 0;
        int acknowledged = 0;

        // Frames of varied sizes, acknowledged in bursts, so the ring wraps many times.
        var random = new Random(15);
        for (int round = 0; round < 2_000; round++)
        {
            int burst = random.Next(1, 40);
            for (int i = 0; i < burst; i++)
            {
                log.Append(Frame(next++, random.Next(0, 300)));
            }

            acknowledged += random.Next(0, next - acknowledged + 1);
            Assert.True(log.Acknowledge(acknowledged));
        }

        List<int> replayed = Replay(log, acknowledged);

        Assert.Equal(Enumerable.Range(acknowledged, next - acknowledged), replayed);
        Assert.Equal(next, log.Sent);
    }

    [Fact]
    public void AnAcknowledgementOfMoreThanWasSentIsRefused()
    {
        var log = new ReplayLog(1024);
        log.Append(Frame(0, 10));

        Assert.False(log.Acknowledge(2));
        Assert.True(log.Acknowledge(1));
        Assert.False(log.CanReplayFrom(0));
        Assert.True(log.CanReplayFrom(1));
    }

    [Fact]
    public void OverItsBoundTheLogBreaksOnceAndCannotReplay()
    {
        int broken = 0;
        var log = new ReplayLog(100, _ => broken++);

        log.Append(Frame(0, 50));
        log.Append(Frame(1, 50));
        log.Append(Frame(2, 50));

        Assert.Equal(1, broken);
        Assert.Equal("more than 100 bytes were waiting for the peer's acknowledgement", log.BrokenReason);
        Assert.Equal(3, log.Sent);
        Assert.False(log.CanReplayFrom(0));
    }

    [Fact]
    public void FramesUnacknowledgedForLongerThanTheAgeBoundBreakTheLog()
    {
        var clock = new Infrastructure.TestClock();
        var state = new Sessions.ClientResumeState(1024);
        TimeSpan maxAge = TimeSpan.FromSeconds(60);
        state.Outgoing.Append(Frame(0, 10));

        // The first look starts the clock; acknowledged in time, it starts again from the next frame.
        state.CheckAge(clock.GetTimestamp(), maxAge, clock);
        clock.Advance(TimeSpan.FromSeconds(59));
        state.CheckAge(clock.GetTimestamp(), maxAge, clock);
        Assert.True(state.Acknowledged(1));
        state.Outgoing.Append(Frame(1, 10));
        state.CheckAge(clock.GetTimestamp(), maxAge, clock);
        clock.Advance(TimeSpan.FromSeconds(59));
        state.CheckAge(clock.GetTimestamp(), maxAge, clock);
        Assert.Null(state.Outgoing.BrokenReason);

        clock.Advance(TimeSpan.FromSeconds(2));
        state.CheckAge(clock.GetTimestamp(), maxAge, clock);

        Assert.Equal("nothing sent was acknowledged within 60 s", state.Outgoing.BrokenReason);
    }

    [Fact]
    public void AnAcknowledgementOfNothingNewDoesNotStartTheAgeAgain()
    {
        var clock = new Infrastructure.TestClock();
        var state = new Sessions.ClientResumeState(1024);
        TimeSpan maxAge = TimeSpan.FromSeconds(60);
        state.Outgoing.Append(Frame(0, 10));
        state.Outgoing.Append(Frame(1, 10));
        Assert.True(state.Acknowledged(1));

        // Frame 2 waits from the first look on; the peer keeps acknowledging 1, then 0, which it had already.
        state.CheckAge(clock.GetTimestamp(), maxAge, clock);
        for (int i = 0; i < 6; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(10));
            Assert.True(state.Acknowledged(i % 2));
            state.CheckAge(clock.GetTimestamp(), maxAge, clock);
        }

        Assert.Null(state.Outgoing.BrokenReason);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(state.Acknowledged(1));
        state.CheckAge(clock.GetTimestamp(), maxAge, clock);

        Assert.Equal("nothing sent was acknowledged within 60 s", state.Outgoing.BrokenReason);
    }

    [Fact]
    public void FramesHeldWhenTheRingGrowsAreKept()
    {
        // No acknowledgement at all: the ring grows several times (from 4 KiB), each time with frames in it, some
        // wrapped around its end.
        var log = new ReplayLog(1024 * 1024);
        for (int i = 0; i < 10; i++)
        {
            log.Append(Frame(i, 300));
        }

        Assert.True(log.Acknowledge(6));
        for (int i = 10; i < 200; i++)
        {
            log.Append(Frame(i, 100 + (i % 7 * 50)));
        }

        Assert.Equal(Enumerable.Range(6, 194), Numbers(log.CopyAfter(6)!));
        Assert.Equal(Enumerable.Range(6, 194), Replay(log, 6));
    }

    [Fact]
    public void ALogHandedOnContinuesTheNumberingAndReplaysWhatThePeerHasNotHandled()
    {
        // The first holder: 40 frames sent across the ring's end, the peer has acknowledged 25 of them.
        var first = new ReplayLog(1024 * 1024);
        for (int i = 0; i < 40; i++)
        {
            first.Append(Frame(i, i * 7 % 200));
        }

        Assert.True(first.Acknowledge(25));
        byte[] tail = first.CopyUnacknowledged(out long acknowledged)!;
        Assert.Equal(25, acknowledged);

        // The next holder starts at the acknowledged count, takes the tail, and goes on numbering after it.
        var adopted = new ReplayLog(1024 * 1024);
        adopted.StartAt(acknowledged);
        Assert.True(adopted.AppendFrames(tail));
        Assert.Equal(40, adopted.Sent);
        adopted.Append(Frame(40, 3));
        Assert.False(adopted.CanReplayFrom(24));
        Assert.True(adopted.CanReplayFrom(25));

        // The peer had handled 31 (more than it acknowledged): the replay starts after them, in order.
        Assert.Equal(Enumerable.Range(31, 10), Replay(adopted, 31));
    }

    [Fact]
    public void CopyAfterSkipsAcknowledgedFramesNotYetDroppedAndRefusesWhatItDoesNotHold()
    {
        var log = new ReplayLog(1024 * 1024);
        log.StartAt(100);
        for (int i = 100; i < 110; i++)
        {
            log.Append(Frame(i, 5));
        }

        // Acknowledged, but not dropped until the next append: still skipped.
        Assert.True(log.Acknowledge(104));
        Assert.Equal(Enumerable.Range(106, 4), Numbers(log.CopyAfter(106)!));
        Assert.Equal(Enumerable.Range(104, 6), Numbers(log.CopyUnacknowledged(out long acknowledged)!));
        Assert.Equal(104, acknowledged);
        Assert.Empty(log.CopyAfter(110)!);
        Assert.Null(log.CopyAfter(99));
        Assert.Null(log.CopyAfter(111));
        Assert.Throws<InvalidOperationException>(() => log.StartAt(5));
    }

    [Fact]
    public void CopyBetweenCopiesOnlyTheFramesUpToTheSecondNumberAcrossTheRingsEnd()
    {
        // What a takeover handed over, again (its answer was lost): the frames up to the switch, not those sent since.
        var log = new ReplayLog(64 * 1024);
        for (int i = 0; i < 400; i++)
        {
            log.Append(Frame(i, 100 + (i % 5 * 40)));
            if (i % 50 == 49)
            {
                Assert.True(log.Acknowledge(i - 20));
            }
        }

        Assert.True(log.WrapsAround, "the frames held should run past the ring's end");
        Assert.Equal(Enumerable.Range(379, 11), Numbers(log.CopyBetween(379, 390)!));
        Assert.Equal(Enumerable.Range(390, 10), Numbers(log.CopyBetween(390, 1_000)!));
        Assert.Empty(log.CopyBetween(390, 390)!);
        Assert.Null(log.CopyBetween(391, 390));
        Assert.Null(log.CopyBetween(300, 390));
    }

    [Fact]
    public void FramesHandedOnOverTheBoundBreakTheAdoptingLog()
    {
        int broken = 0;
        var log = new ReplayLog(100, _ => broken++);
        log.StartAt(7);
        byte[] frames = [.. Frame(7, 50), .. Frame(8, 50)];

        Assert.False(log.AppendFrames(frames));
        Assert.Equal(1, broken);
        Assert.Equal(9, log.Sent);
        Assert.Null(log.CopyUnacknowledged(out _));
        Assert.Throws<ArgumentException>(() => new ReplayLog(1000).AppendFrames(Frame(0, 10).AsSpan(0, 9)));
    }

    private static byte[] Frame(int number, int padding)
    {
        byte[] frame = new byte[FrameReader.HeaderSize + 4 + padding];
        BinaryPrimitives.WriteInt32BigEndian(frame, 4 + padding);
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(FrameReader.HeaderSize), number);
        return frame;
    }

    private static List<int> Numbers(byte[] all)
    {
        var numbers = new List<int>();
        for (int at = 0; at < all.Length;)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(all.AsSpan(at));
            numbers.Add(BinaryPrimitives.ReadInt32BigEndian(all.AsSpan(at + FrameReader.HeaderSize)));
            at += FrameReader.HeaderSize + length;
        }

        return numbers;
    }

    private static List<int> Replay(ReplayLog log, long from)
    {
        var pipe = new Pipe();
        long bytes = log.ReplayInto(null!, pipe.Writer, from);
        Assert.True(bytes >= 0);
        pipe.Writer.Complete();
        Assert.True(pipe.Reader.TryRead(out ReadResult result));
        byte[] all = result.Buffer.ToArray();
        var numbers = new List<int>();
        for (int at = 0; at < all.Length;)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(all.AsSpan(at));
            numbers.Add(BinaryPrimitives.ReadInt32BigEndian(all.AsSpan(at + FrameReader.HeaderSize)));
            at += FrameReader.HeaderSize + length;
        }

        return numbers;
    }
}
