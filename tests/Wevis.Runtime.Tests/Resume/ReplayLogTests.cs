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

    private static byte[] Frame(int number, int padding)
    {
        byte[] frame = new byte[FrameReader.HeaderSize + 4 + padding];
        BinaryPrimitives.WriteInt32BigEndian(frame, 4 + padding);
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(FrameReader.HeaderSize), number);
        return frame;
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
