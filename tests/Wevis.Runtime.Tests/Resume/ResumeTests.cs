using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Messages;

namespace Wevis.Runtime.Tests.Resume;

/// <summary>A resumable session over a connection that breaks: the same user, room and messages, each once, in order.</summary>
public class ResumeTests
{
    // With a receive thread of its own too: a black hole then ends that thread through the silent-server timer's abort.
    [Theory]
    [InlineData(FaultKind.Reset, false)]
    [InlineData(FaultKind.Close, false)]
    [InlineData(FaultKind.BlackHole, false)]
    [InlineData(FaultKind.Reset, true)]
    [InlineData(FaultKind.BlackHole, true)]
    public async Task TheSessionResumesAfterABreakWithNothingLostOrRepeated(FaultKind kind, bool dedicatedReceiveThread)
    {
        var room = new ResumeRoom();
        await using TestServer server = await ResumeExchange.StartServerAsync(room);
        await using var proxy = new FaultProxy(server.Port);
        await using Client client = ResumeExchange.CreateClient(server, proxy.Port, "user1", configure: o => o.DedicatedReceiveThread = dedicatedReceiveThread);
        int dropped = 0;
        int resumed = 0;
        client.Dropped += (_, _) => Interlocked.Increment(ref dropped);
        var resumedOnce = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Resumed += (_, _) =>
        {
            Interlocked.Increment(ref resumed);
            resumedOnce.TrySetResult();
        };
        await client.ConnectAsync().Within();

        int replies = await ResumeExchange.RunAsync(client, 3000, 100, afterReply: n =>
        {
            if (n == 1000)
            {
                proxy.BreakAll(kind);
            }
        }).Within(TimeSpan.FromSeconds(30));

        Assert.Equal(3000, replies);
        Assert.Equal(3000, room.HandledFrom("user1"));
        Assert.Equal(0, room.Duplicates);
        Assert.Equal(0, room.Gaps);
        Assert.Equal(1, Volatile.Read(ref dropped));

        // Raised on the reconnecting task after the resume, as documented: on a busy machine, after the last reply.
        await resumedOnce.Task.Within();
        Assert.Equal(1, Volatile.Read(ref resumed));
        Assert.Equal(1, client.ResumeCount);
        Assert.Equal(0, room.Leaves);
        Assert.Equal(1, room.EnteredCount("user1"));
    }

    [Fact]
    public async Task AReceiveBlockingInProgressGetsItsMessageAfterTheResumeAndSendsMeanwhileGoOut()
    {
        var room = new ResumeRoom { SendOnDrop = 1 };
        await using TestServer server = await ResumeExchange.StartServerAsync(room);
        await using var proxy = new FaultProxy(server.Port);
        await using Client client = ResumeExchange.CreateClient(server, proxy.Port, "user1", configure: o => o.ReconnectDelay = o.MaxReconnectDelay = TimeSpan.FromMilliseconds(300));
        await client.ConnectAsync().Within();
        client.ReceiveBlocking<Example.ServerReady>(TimeSpan.FromSeconds(10));

        Task<IMessage> receiving = Task.Run(() => client.ReceiveBlocking(TimeSpan.FromSeconds(20)));
        proxy.BreakAll(FaultKind.Reset);
        await room.FirstDrop.Task.Within();
        client.Send(new Numbered(0));

        // What the room sent while the user was away, then the answer to what the client sent meanwhile.
        Assert.Equal(new NumberedReply(-1), await receiving.Within(TimeSpan.FromSeconds(20)));
        Assert.Equal(new NumberedReply(0), await client.ReceiveAsync().AsTask().Within());
        Assert.Equal(1, room.ResumedCount);
    }

    [Fact]
    public async Task AConnectCancelledAsTheLoginIsAcceptedLeavesNoSessionBehind()
    {
        // The caller's token is cancelled on the receive loop right after the server accepted the login (in the
        // handler of the entry room's RoomChanged, which comes just after LoginAccepted): the cancellation and the
        // login's success race, as they do for a caller whose timeout fires at that moment. ConnectAsync may finish
        // (the success came first) or throw; when it throws, the session must be over on both sides: the server told
        // (the user leaves at once, not held as dropped), and the client neither connected nor resuming. Which comes
        // first is up to the thread pool: new users are tried until one connect is cancelled.
        var room = new ResumeRoom();
        await using TestServer server = await ResumeExchange.StartServerAsync(room);
        int cancelled = 0;
        for (int i = 0; i < 50 && cancelled == 0; i++)
        {
            string user = "user" + i;
            await using Client client = ResumeExchange.CreateClient(server, server.Port, user);
            using var cancel = new CancellationTokenSource();
            int dropped = 0;
            client.Dropped += (_, _) => Interlocked.Increment(ref dropped);
            client.RoomChanged += (_, _) => cancel.Cancel();
            try
            {
                await client.ConnectAsync(cancel.Token).Within();
                continue;
            }
            catch (OperationCanceledException)
            {
                cancelled++;
            }

            await Task.WhenAny(room.LeaveOf(user), room.FirstDrop.Task).Within();
            Assert.True(room.DroppedCount == 0, "ConnectAsync was cancelled, yet the server was left holding the session as dropped");
            Assert.True(Volatile.Read(ref dropped) == 0, "ConnectAsync was cancelled, yet the client took its connection for lost and resumed it");
            Assert.False(client.IsConnected);
        }

        Assert.True(cancelled == 1, "the cancellation never came before ConnectAsync finished, in fifty tries: nothing was tested");
    }

    [Fact]
    public async Task AConnectCancelledAfterTheServerAcceptedButBeforeTheClientHeardLeavesNoSessionBehind()
    {
        // The server has accepted the login (the user is in the room), but its acceptance has not reached the
        // client yet (held here in the client's reads, as on a slow network) when the caller's token is cancelled.
        // The client cannot know that the login went through: it must end it on the server all the same, with a
        // farewell, or the server takes the cut for a lost connection and holds the session for the grace period.
        var room = new ResumeRoom();
        await using TestServer server = await ResumeExchange.StartServerAsync(room);
        var heldReads = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using Client client = ResumeExchange.CreateClient(server, server.Port, "userlate", configure: o => o.Connector = ResumeExchange.ConnectThrough(
            server.Port, stream => new ReadHoldingStream(stream, heldReads.Task)));
        using var cancel = new CancellationTokenSource();
        Task connecting = client.ConnectAsync(cancel.Token);
        await server.Log.WaitForAsync(e => e.EventId.Id == 20 && e.Message.Contains(" as userlate ", StringComparison.Ordinal));

        cancel.Cancel();
        await Task.WhenAny(room.LeaveOf("userlate"), room.FirstDrop.Task).Within();
        heldReads.SetResult();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connecting.Within());

        Assert.True(room.DroppedCount == 0, "ConnectAsync was cancelled, yet the server was left holding the session as dropped");
        Assert.False(client.IsConnected);
    }

    [Fact]
    public async Task AResumedConnectionThatBreaksRightAfterItsHandshakeRaisesDroppedOnlyAfterResumed()
    {
        // The second connection (the first resume) breaks as soon as the client has heard its resume was accepted,
        // while the reconnecting task is about to raise Resumed (held here in its log line, event 108, until the
        // receive loop has logged the new drop, event 107). Dropped, Resumed, Dropped, Resumed: never the second drop
        // before the resume of the first.
        var room = new ResumeRoom();
        await using TestServer server = await ResumeExchange.StartServerAsync(room);
        var breakFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var breakSecond = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var secondDropLogged = new ManualResetEventSlim();
        int drops = 0;
        int resumes = 0;
        server.Log.Logged = entry =>
        {
            if (entry.EventId.Id == 107 && Interlocked.Increment(ref drops) == 2)
            {
                secondDropLogged.Set();
            }
            else if (entry.EventId.Id == 108 && Interlocked.Increment(ref resumes) == 1)
            {
                breakSecond.TrySetResult();
                secondDropLogged.Wait(Bounded.DefaultTimeout);
            }
        };
        int connections = 0;
        await using Client client = ResumeExchange.CreateClient(server, server.Port, "user1", configure: o => o.Connector = ResumeExchange.ConnectThrough(
            server.Port,
            stream => Interlocked.Increment(ref connections) switch
            {
                1 => new BreakingStream(stream, breakFirst.Task),
                2 => new BreakingStream(stream, breakSecond.Task),
                _ => stream,
            }));
        var events = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var resumedTwice = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Dropped += (_, _) => events.Enqueue("Dropped");
        client.Resumed += (_, _) =>
        {
            events.Enqueue("Resumed");
            if (events.Count(e => e == "Resumed") == 2)
            {
                resumedTwice.TrySetResult();
            }
        };
        await client.ConnectAsync().Within();

        breakFirst.SetResult();

        await resumedTwice.Task.Within(TimeSpan.FromSeconds(20));
        Assert.Equal(["Dropped", "Resumed", "Dropped", "Resumed"], events.ToArray());
        Assert.Equal(2, client.ResumeCount);
    }

    /// <summary>Passes reads through until <paramref name="broken"/> completes; from then on (a read waiting included) they fail, as on a reset connection.</summary>
    private sealed class BreakingStream(Stream inner, Task broken) : DelegatingStream(inner)
    {
        public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
        {
            Task<int> reading = Inner.ReadAsync(destination, cancellationToken).AsTask();
            if (await Task.WhenAny(reading, broken) == broken)
            {
                _ = reading.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
                Inner.Dispose();
                throw new IOException("the connection was reset (by the test)");
            }

            return await reading;
        }
    }

    /// <summary>Passes reads through until one brings bytes (the welcome), then holds every read until <paramref name="held"/> completes.</summary>
    private sealed class ReadHoldingStream(Stream inner, Task held) : DelegatingStream(inner)
    {
        private int _reads;

        public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
        {
            if (_reads > 0)
            {
                await held.WaitAsync(cancellationToken);
            }

            int read = await Inner.ReadAsync(destination, cancellationToken);
            _reads += read > 0 ? 1 : 0;
            return read;
        }
    }

    [Fact]
    public async Task CodeReadingAReplayedMessageOnTheReceiveLoopIsOnTheNewConnection()
    {
        // The message the room sent while the user was away is replayed on the new connection, right after the
        // server accepts the resume, and the code awaiting it continues on that connection's receive loop. There the
        // client must already count the new connection as its own: connected, and a blocking receive refused at once
        // (it would wait forever), as on any receive loop, instead of blocking the loop as if it were another thread.
        // The new connection's reads are gathered so that the acceptance and the replay come in one batch, as they
        // may on any network: the loop then hands up the replay without a pause. Ten users, one after another: the
        // reconnecting task, which used to make the new connection current, raced the loop (and sometimes won).
        var room = new ResumeRoom { SendOnDrop = 1 };
        await using TestServer server = await ResumeExchange.StartServerAsync(room);
        await using var proxy = new FaultProxy(server.Port);
        for (int i = 0; i < 10; i++)
        {
            int connections = 0;
            string user = "user" + i;

            // The resume: the welcome alone (the client answers it), then _Resumed, LoginAccepted and the replay together.
            Func<CancellationToken, ValueTask<Stream>> through = ResumeExchange.ConnectThrough(
                proxy.Port,
                stream => Volatile.Read(ref connections) == 2 ? new FrameGatheringStream(stream, 1, 3) : stream);
            await using Client client = ResumeExchange.CreateClient(server, proxy.Port, user, configure: o => o.Connector = async cancellationToken =>
            {
                if (Interlocked.Increment(ref connections) == 2)
                {
                    // Back only once the server has heard of the drop and the room's drop hook has sent what is to be
                    // replayed: a resume landing before the server notices the reset takes the session over without a
                    // drop, and nothing is sent for the replay (a 20 s wait for it, once in eight runs on a busy machine).
                    await room.DropOf(user).WaitAsync(cancellationToken);
                }

                return await through(cancellationToken);
            });
            await client.ConnectAsync().Within();
            await client.ReceiveAsync<Example.ServerReady>().AsTask().Within();
            Task<(IMessage Replayed, bool Connected, Exception? Blocking)> reading = ReadThenReceiveBlockingAsync(client);

            proxy.BreakAll(FaultKind.Reset);

            (IMessage replayed, bool connected, Exception? blocking) = await reading.Within(TimeSpan.FromSeconds(20));
            Assert.Equal(new NumberedReply(-1), replayed);
            Assert.True(connected, $"user{i}: the client said it was not connected while it handed up the resumed session's replay");
            Assert.IsType<InvalidOperationException>(blocking);
            Assert.Equal(1, client.ResumeCount);
        }

        static async Task<(IMessage, bool, Exception?)> ReadThenReceiveBlockingAsync(Client client)
        {
            IMessage replayed = await client.ReceiveAsync().ConfigureAwait(false); // Nothing has arrived yet: this waits.
            bool connected = client.IsConnected;
            try
            {
                client.ReceiveBlocking(TimeSpan.FromSeconds(2));
                return (replayed, connected, null);
            }
            catch (Exception ex)
            {
                return (replayed, connected, ex);
            }
        }
    }

    [Fact]
    public async Task AServerWithResumingOffGivesAnOrdinarySessionWhichALostConnectionEnds()
    {
        var room = new ResumeRoom();
        await using TestServer server = await ResumeExchange.StartServerAsync(room, o => o.ResumeGracePeriod = TimeSpan.Zero);
        await using var proxy = new FaultProxy(server.Port);
        await using Client client = ResumeExchange.CreateClient(server, proxy.Port, "user1");
        await client.ConnectAsync().Within();
        Assert.Null(client.ResumeToken);

        proxy.BreakAll(FaultKind.Reset);

        await room.LeaveOf("user1").Within();
        Assert.Equal(0, room.DroppedCount);
        await Assert.ThrowsAsync<ConnectionClosedException>(async () =>
        {
            while (true)
            {
                await client.ReceiveAsync();
            }
        }).Within();
    }

    /// <summary>
    /// Hands out what it reads in groups of whole frames (so many frames, then so many more, then as it comes), so
    /// that frames the server sent one by one reach the client's receive loop in one batch.
    /// </summary>
    private sealed class FrameGatheringStream(Stream inner, params int[] groups) : DelegatingStream(inner)
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _count;
        private int _ready;
        private int _group;

        public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
        {
            while (_ready == 0)
            {
                if (_group == groups.Length && _count == 0)
                {
                    return await Inner.ReadAsync(destination, cancellationToken);
                }

                if (_group == groups.Length)
                {
                    _ready = _count;
                    break;
                }

                int read = await Inner.ReadAsync(_buffer.AsMemory(_count), cancellationToken);
                if (read == 0)
                {
                    _ready = _count;
                    _group = groups.Length;
                    if (_ready == 0)
                    {
                        return 0;
                    }

                    break;
                }

                _count += read;
                int frames = 0;
                for (int at = 0; at + 4 <= _count;)
                {
                    int length = 4 + System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(_buffer.AsSpan(at));
                    if (at + length > _count)
                    {
                        break;
                    }

                    at += length;
                    if (++frames == groups[_group])
                    {
                        _ready = at;
                        _group++;
                        break;
                    }
                }
            }

            int handed = Math.Min(_ready, destination.Length);
            _buffer.AsSpan(0, handed).CopyTo(destination.Span);
            Array.Copy(_buffer, handed, _buffer, 0, _count - handed);
            _count -= handed;
            _ready -= handed;
            return handed;
        }
    }
}
