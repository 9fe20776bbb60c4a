using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using Wevis.Orleans.Tests.Messages;
using Wevis.Tests.Shared;

namespace Wevis.Orleans.Tests;

/// <summary>
/// A grain call between a gateway and a room that loses its answer or fails, with both sides alive: the call is made
/// again, or what it carried is sent again, and the user sees each message handled once and every frame once.
/// </summary>
[Collection("cluster")]
public sealed class GatewayCallFaultTests
{
    [Fact]
    public async Task ADeliveryMadeAgainAfterItsAnswerWasLostWhenRoomCodeHadMovedTheUserIsNotHandledAgainInTheTarget()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync();
        await using Client client = await cluster.ConnectAsync("mover-" + Guid.NewGuid().ToString("N")[..8], cluster.Silos[1]);
        ClientRoom first = await client.JoinOrCreateRoomAsync("chat").Within();
        string target = await cluster.CreateRoomAsync("chat");
        int before = GrainCalls.To("IRoomGrain").GetValueOrDefault("IRoomGrain.Deliver");
        try
        {
            // The first room handles the move and the answer is lost: the gateway makes the delivery again, and finds
            // the user moved. The target must get only what came after the move, not the move again.
            Volatile.Write(ref GrainCalls.LosingReply, "IRoomGrain.Deliver");
            client.Send(new Say("go:" + target));
            client.Send(new WhereAmI());
            var seen = new List<IMessage>();
            while (await client.ReceiveAsync().Within(TimeSpan.FromSeconds(20)) is var message && message is not YouAreIn)
            {
                seen.Add(message);
            }

            Assert.Null(Volatile.Read(ref GrainCalls.LosingReply));
            Assert.True(GrainCalls.To("IRoomGrain").GetValueOrDefault("IRoomGrain.Deliver") >= before + 2, "the delivery was not made again");
            Assert.DoesNotContain(seen, message => message is Said { From: "room" });
            Assert.NotEqual(first.Id, client.Room?.Id);
            Assert.Equal(target, client.Room?.Id);
        }
        finally
        {
            Volatile.Write(ref GrainCalls.LosingReply, null);
        }

        // The target room has the user, and only what followed the move reached it.
        client.Send(new WhereAmI());
        Assert.Equal(target, (await client.WaitForAsync<YouAreIn>().Within()).Room);
    }

    [Fact]
    public async Task AFailedCallToAGatewayIsMadeAgainAndItsUsersGoOnHearingFromTheRoom()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync();
        await using Client client = await cluster.ConnectAsync("echo-" + Guid.NewGuid().ToString("N")[..8], cluster.Silos[1]);
        await client.JoinOrCreateRoomAsync("chat").Within();
        int before = GrainCalls.To("IGatewayObserver").GetValueOrDefault("IGatewayObserver.Receive");
        try
        {
            // The room's call to the (living) gateway with the broadcast of "one" fails once; then calls go through.
            GrainCalls.Failing = "IGatewayObserver.Receive";
            client.Send(new Say("one"));
            await GrainCalls.Reached("IGatewayObserver.Receive", before + 1).Within();
        }
        finally
        {
            GrainCalls.Failing = null;
        }

        // "one" arrives once (sent again), and the room's next broadcast follows it.
        client.Send(new Say("two"));
        Assert.Equal("one", (await client.WaitForAsync<Said>().Within(TimeSpan.FromSeconds(10))).Text);
        Assert.Equal("two", (await client.WaitForAsync<Said>().Within(TimeSpan.FromSeconds(10))).Text);
        client.Send(new WhereAmI());
        Assert.IsType<YouAreIn>(await client.ReceiveAsync().Within());
    }

    [Fact]
    public async Task ACallToALivingGatewayThatTimesOutIsMadeAgainAndItsFramesArriveOnceInOrder()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync();
        InProcessSiloHandle gatewaySilo = cluster.Silos[1];
        await using Client client = await cluster.ConnectAsync("slow-" + Guid.NewGuid().ToString("N")[..8], gatewaySilo);
        await client.JoinOrCreateRoomAsync("chat").Within();
        // The room's call to the (living) gateway with the broadcast of "one" runs there, but the room hears a
        // timeout: it cannot tell whether the frames arrived.
        int before = await LosingTheAnswerAsync("IGatewayObserver.Receive", async () =>
        {
            client.Send(new Say("one"));
            Assert.Equal("one", (await client.WaitForAsync<Said>().Within(TimeSpan.FromSeconds(10))).Text);
        });

        // The room made the call again (the gateway dropped it: it had it) and goes on: "two" arrives, "one" not again.
        client.Send(new Say("two"));
        client.Send(new WhereAmI());
        var said = new List<string>();
        while (await client.ReceiveAsync().Within(TimeSpan.FromSeconds(10)) is var message && message is not YouAreIn)
        {
            if (message is Said { Text: var text })
            {
                said.Add(text);
            }
        }

        Assert.Equal(["two"], said);
        Assert.True(GrainCalls.To("IGatewayObserver").GetValueOrDefault("IGatewayObserver.Receive") >= before + 3, "the call was not made again");
        Assert.True(client.IsConnected, "the session was closed");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AFailedCheckOfAUsersRoomAfterAnUnrelatedNodesDeathLeavesTheirSessionGoingOn(bool answerLost)
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync();
        string roomId = await cluster.CreateRoomAsync("chat");
        InProcessSiloHandle roomHost = cluster.HostOf(roomId)!;
        InProcessSiloHandle gateway = cluster.Silos.First(s => s != roomHost);
        InProcessSiloHandle doomed = cluster.Silos.First(s => s != roomHost && s != gateway);
        await using Client client = await cluster.ConnectAsync("rc-" + Guid.NewGuid().ToString("N")[..8], gateway);
        await client.JoinRoomAsync(roomId).Within();
        int before = GrainCalls.To("IRoomGrain").GetValueOrDefault("IRoomGrain.Deliver");
        try
        {
            // A node that hosts neither the user's room nor their connection dies: the gateway checks the user's
            // room (an empty delivery), and that call loses its answer, or fails.
            Task lost = Task.CompletedTask;
            if (answerLost)
            {
                lost = GrainCalls.LoseNextReply("IRoomGrain.Deliver");
            }
            else
            {
                GrainCalls.Failing = "IRoomGrain.Deliver";
            }

            await cluster.Cluster.KillSiloAsync(doomed).Within(TimeSpan.FromSeconds(30));
            await Task.WhenAll(GrainCalls.Reached("IRoomGrain.Deliver", before + 1), lost).Within();
        }
        finally
        {
            GrainCalls.Failing = null;
            Volatile.Write(ref GrainCalls.LosingReply, null);
        }

        // The room is fine: the user's session goes on there.
        client.Send(new Say("still here"));
        Assert.Equal("still here", (await client.WaitForAsync<Said>().Within(TimeSpan.FromSeconds(20))).Text);
        Assert.True(client.IsConnected, "the session was closed");
    }

    [Fact]
    public async Task AJoinWhoseEntryAnswerWasLostSucceedsAndLeavesTheUserInTheTargetOnly()
    {
        // One seat: an entry made again that took a second one would be refused as full.
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync(chatCapacity: 1);
        string target = await cluster.CreateRoomAsync("chat");
        await using Client client = await cluster.ConnectAsync("enter-" + Guid.NewGuid().ToString("N")[..8], cluster.Silos[1]);

        // Answered once the login's entry into the lobby is done (the gateway handles it after): that one keeps its answer.
        client.Send(new WhereAmI());
        Assert.Equal(RoomDirectory.EntryRoomName, (await client.WaitForAsync<YouAreIn>().Within(TimeSpan.FromSeconds(20))).Room);
        // The target lets the user in, and the answer to the gateway's call is lost.
        (ClientRoom joined, int before) = await LosingTheAnswerAsync("IRoomGrain.Enter", () => client.JoinRoomAsync(target).Within(TimeSpan.FromSeconds(20)));

        // The call was made again and answered as the first: the user is in the target, and in no other room.
        Assert.Equal(target, joined.Id);
        client.Send(new WhereAmI());
        YouAreIn where = await client.WaitForAsync<YouAreIn>().Within(TimeSpan.FromSeconds(20));
        Assert.Equal((target, 1), (where.Room, where.Count));
        Assert.True(client.IsConnected, "the session was closed");
        Assert.Equal(1, (await cluster.Cluster.Client.GetGrain<IRoomGrain>(target).Info().Within())!.Count);
        Assert.Equal(0, (await cluster.Cluster.Client.GetGrain<IRoomGrain>(RoomDirectory.EntryRoomName).Info().Within())!.Count);
        Assert.True(GrainCalls.To("IRoomGrain").GetValueOrDefault("IRoomGrain.Enter") >= before + 2, "the entry was not made again");
    }

    [Fact]
    public async Task AJoinWhoseLeaveAnswerWasLostMovesTheUserOnceIntoTheTargetOnly()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync();
        string source = await cluster.CreateRoomAsync("chat");
        string target = await cluster.CreateRoomAsync("chat");
        await using Client watcher = await cluster.ConnectAsync("watch-" + Guid.NewGuid().ToString("N")[..8], cluster.Silos[0]);
        await watcher.JoinRoomAsync(source).Within();
        string name = "leave-" + Guid.NewGuid().ToString("N")[..8];
        await using Client client = await cluster.ConnectAsync(name, cluster.Silos[1]);
        await client.JoinRoomAsync(source).Within();
        // The source lets the user go (leave hook and all), and the answer to the gateway's call is lost.
        int before = await LosingTheAnswerAsync("IRoomGrain.Leave", async () =>
            Assert.Equal(target, (await client.JoinRoomAsync(target).Within(TimeSpan.FromSeconds(20))).Id));

        // The leave was made again and recognised: the user is in the target only, and left the source once.
        client.Send(new WhereAmI());
        Assert.Equal((target, 1), await client.WaitForAsync<YouAreIn>().Within(TimeSpan.FromSeconds(20)) is var where ? (where.Room, where.Count) : default);
        Assert.True(client.IsConnected, "the session was closed");
        Assert.True(GrainCalls.To("IRoomGrain").GetValueOrDefault("IRoomGrain.Leave") >= before + 2, "the leave was not made again");
        Assert.Equal(1, (await cluster.Cluster.Client.GetGrain<IRoomGrain>(source).Info().Within())!.Count);
        watcher.Send(new Say("mark"));
        var heard = new List<string>();
        while (await watcher.WaitForAsync<Said>().Within(TimeSpan.FromSeconds(10)) is { Text: var text } && text != "mark")
        {
            heard.Add(text);
        }

        Assert.Equal([name + " left"], heard);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AJoinWhoseEntryCannotBeMadeLeavesTheUserWhereTheyWereWithTheReason(bool timesOut)
    {
        // A short grace period: the gateway then waits for a room for its least, 10 s.
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync(chatCapacity: 1, configure: wevis => wevis.Gateway.ResumeGracePeriod = TimeSpan.FromSeconds(3));
        string source = await cluster.CreateRoomAsync("chat");
        string target = await cluster.CreateRoomAsync("chat");
        await using Client client = await cluster.ConnectAsync("stay-" + Guid.NewGuid().ToString("N")[..8], cluster.Silos[1]);
        await client.JoinRoomAsync(source).Within();
        try
        {
            // Every call to enter the target fails (or is lost, for longer than the gateway waits for a room).
            GrainCalls.FailingOn = new CallFault("IRoomGrain.Enter", target, timesOut);
            JoinRefusedException refused = await Assert.ThrowsAsync<JoinRefusedException>(() => client.JoinRoomAsync(target).Within(TimeSpan.FromSeconds(30)));
            Assert.Equal($"room {target} could not be entered: the cluster did not answer", refused.Reason);
        }
        finally
        {
            GrainCalls.FailingOn = null;
        }

        // The user is back where they were, once, with their session; the target's seat was given back (one seat).
        client.Send(new WhereAmI());
        Assert.Equal((source, 1), await client.WaitForAsync<YouAreIn>().Within(TimeSpan.FromSeconds(20)) is var where ? (where.Room, where.Count) : default);
        Assert.True(client.IsConnected, "the session was closed");
        Assert.Equal(0, (await cluster.Cluster.Client.GetGrain<IRoomGrain>(target).Info().Within())!.Count);
        Assert.Equal(target, (await client.JoinRoomAsync(target).Within(TimeSpan.FromSeconds(20))).Id);
    }

    [Fact]
    public async Task AJoinWhoseLeaveCannotBeMadeLeavesTheUserWhereTheyWereWithTheReason()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync(chatCapacity: 1);
        string source = await cluster.CreateRoomAsync("chat");
        string target = await cluster.CreateRoomAsync("chat");
        await using Client client = await cluster.ConnectAsync("stuck-" + Guid.NewGuid().ToString("N")[..8], cluster.Silos[1]);
        await client.JoinRoomAsync(source).Within();
        try
        {
            // The source cannot let the user go: the gateway must not send them on while the source may have them.
            GrainCalls.FailingOn = new CallFault("IRoomGrain.Leave", source, AsTimeout: false);
            JoinRefusedException refused = await Assert.ThrowsAsync<JoinRefusedException>(() => client.JoinRoomAsync(target).Within(TimeSpan.FromSeconds(30)));
            Assert.Equal($"room {source} could not be left: the cluster did not answer", refused.Reason);
        }
        finally
        {
            GrainCalls.FailingOn = null;
        }

        client.Send(new WhereAmI());
        Assert.Equal((source, 1), await client.WaitForAsync<YouAreIn>().Within(TimeSpan.FromSeconds(20)) is var where ? (where.Room, where.Count) : default);
        Assert.True(client.IsConnected, "the session was closed");
        Assert.Equal(0, (await cluster.Cluster.Client.GetGrain<IRoomGrain>(target).Info().Within())!.Count);
    }

    [Fact]
    public async Task AnEntryAfterRoomCodesMoveWhoseAnswerWasLostIsRecognisedAndPutsTheUserInTheTargetOnce()
    {
        // One seat each: an entry made again that took a second seat would be refused as full, and the user put back.
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync(chatCapacity: 1);
        string source = await cluster.CreateRoomAsync("chat");
        string target = await cluster.CreateRoomAsync("chat");
        await using Client client = await cluster.ConnectAsync("moved-" + Guid.NewGuid().ToString("N")[..8], cluster.Silos[1]);
        await client.JoinRoomAsync(source).Within();
        // Room code moves the user (a seat held in the target); the target lets them in, and the answer to the
        // gateway's call is lost.
        int before = await LosingTheAnswerAsync("IRoomGrain.Enter", () =>
        {
            client.Send(new Say("go:" + target));
            return Task.CompletedTask;
        });

        // The call was made again and answered as the first: in the target once, in the source no more.
        client.Send(new WhereAmI());
        Assert.Equal((target, 1), await client.WaitForAsync<YouAreIn>().Within(TimeSpan.FromSeconds(20)) is var where ? (where.Room, where.Count) : default);
        Assert.Equal(target, client.Room?.Id);
        Assert.True(client.IsConnected, "the session was closed");
        Assert.True(GrainCalls.To("IRoomGrain").GetValueOrDefault("IRoomGrain.Enter") >= before + 2, "the entry was not made again");
        Assert.Equal(1, (await cluster.Cluster.Client.GetGrain<IRoomGrain>(target).Info().Within())!.Count);

        // Emptied, the source may be disposed already (no info then).
        Assert.Equal(0, (await cluster.Cluster.Client.GetGrain<IRoomGrain>(source).Info().Within())?.Count ?? 0);
    }

    [Fact]
    public async Task AnEntryLikeAnEarlierOneIsNotTakenForItsRepeatWhenTheMoveSeenWasLost()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync();
        string first = await cluster.CreateRoomAsync("loop");
        string second = await cluster.CreateRoomAsync("loop");
        (LoopRoom.Twins[first], LoopRoom.Twins[second]) = (second, first);
        string name = "loop-" + Guid.NewGuid().ToString("N")[..8];
        await using Client client = await cluster.ConnectAsync(name, cluster.Silos[1]);

        // Looked at whenever the user enters a loop room or the client hears of a room change.
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Look()
        {
            if (LoopRoom.Entries.GetValueOrDefault(name) >= 4 && client.Room?.Id == second)
            {
                arrived.TrySetResult();
            }
        }

        Action<string> entered = _ => Look();
        LoopRoom.Entered += entered;
        client.RoomChanged += (_, _) => Look();
        try
        {
            // Room code alone moves the user first → second → first → second: the last entry into the second room has
            // the same arguments as the first one there (type, no request, the move's reason, the count of handled
            // messages). The gateway's word that it saw each move never reaches the rooms.
            GrainCalls.Failing = "IRoomGrain.MoveSeen";
            await client.JoinRoomAsync(first).Within(TimeSpan.FromSeconds(20));
            Look();
            await arrived.Task.Within(TimeSpan.FromSeconds(20), $"the user's fourth entry, into {second}, and the client's move there");

            // The last entry was a new one (its enter hook ran, and the room has the user), not the first one's repeat.
            client.Send(new WhereAmI());
            Assert.Equal((second, 1), await client.WaitForAsync<YouAreIn>().Within(TimeSpan.FromSeconds(10)) is var where ? (where.Room, where.Count) : default);
            Assert.Equal(4, LoopRoom.Entries[name]);
        }
        finally
        {
            LoopRoom.Entered -= entered;
            GrainCalls.Failing = null;
        }
    }

    [Fact]
    public async Task ALoginWhoseEntryAnswerWasLostGoesOnInTheEntryRoom()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync();
        // The entry room lets the user in after the login, and the answer to the gateway's call is lost.
        (Client client, int before) = await LosingTheAnswerAsync("IRoomGrain.Enter", () => cluster.ConnectAsync("login-" + Guid.NewGuid().ToString("N")[..8], cluster.Silos[1]));

        // The call was made again and answered as the first: the session goes on, with the user in the entry room once.
        await using (client)
        {
            client.Send(new WhereAmI());
            YouAreIn where = await client.WaitForAsync<YouAreIn>().Within(TimeSpan.FromSeconds(20));
            Assert.Equal((RoomDirectory.EntryRoomName, 1), (where.Room, where.Count));
            Assert.True(client.IsConnected, "the session was closed");
            Assert.True(GrainCalls.To("IRoomGrain").GetValueOrDefault("IRoomGrain.Enter") >= before + 2, "the entry was not made again");
        }
    }

    /// <summary>
    /// Does <paramref name="action"/> while the answer to the next call of <paramref name="method"/> (as
    /// <c>IRoomGrain.Enter</c>) is lost (the call runs, its caller hears a timeout), and waits until it was; with
    /// <paramref name="action"/>'s result, how many calls of the method there were before, to show it was made again.
    /// </summary>
    private static async Task<(T Result, int Before)> LosingTheAnswerAsync<T>(string method, Func<Task<T>> action)
    {
        int before = GrainCalls.To(method[..method.IndexOf('.', StringComparison.Ordinal)]).GetValueOrDefault(method);
        try
        {
            Task lost = GrainCalls.LoseNextReply(method);
            T result = await action();
            await lost.Within();
            return (result, before);
        }
        finally
        {
            Volatile.Write(ref GrainCalls.LosingReply, null);
        }
    }

    /// <summary>Matches the log event of <paramref name="room"/> giving back a seat held for a user who will not use it.</summary>
    private static Func<LogEntry, bool> SeatGivenBackIn(string room) =>
        entry => entry.EventId.Id == 9041 && entry.Message.StartsWith($"Room {room} ", StringComparison.Ordinal);

    /// <summary>Log event 9007: a room's call to a gateway failed, and is made again.</summary>
    private static Func<LogEntry, bool> CallFailedIn(string room) =>
        entry => entry.EventId.Id == 9007 && entry.Message.StartsWith($"Room {room}'s ", StringComparison.Ordinal);

    /// <summary>As <see cref="LosingTheAnswerAsync{T}"/>, for an action with no result; how many calls of the method there were before.</summary>
    private static async Task<int> LosingTheAnswerAsync(string method, Func<Task> action) =>
        (await LosingTheAnswerAsync(method, async () =>
        {
            await action();
            return true;
        })).Before;

    [Fact]
    public async Task ASessionWhoseLeaveFailsAtItsEndStillEndsItsRecord()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync(silos: 2);
        Client client = ClusterResumeTests.CreateClient("leaver", [new("127.0.0.1", cluster.PortOf(cluster.Silos[0]))]);
        string token;
        try
        {
            await client.ConnectAsync().Within();
            token = client.ResumeToken!;
            await client.JoinOrCreateRoomAsync("chat").Within();
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }

        ISessionGrain record = cluster.Cluster.Client.GetGrain<ISessionGrain>(SessionKeys.Key(token));
        Assert.Null((await record.Claim(SessionKeys.Verifier(token), "leaver").Within()).Refusal);
        try
        {
            // The client closes; the gateway's call to take the user out of their room fails. Once the gateway's call
            // to end the record has run, a claim of the session is refused.
            GrainCalls.Failing = "IRoomGrain.Leave";
            int ends = GrainCalls.FinishedCount("ISessionGrain.End");
            await client.DisposeAsync();
            await GrainCalls.FinishedAt("ISessionGrain.End", ends + 1).Within();
            Assert.NotNull((await record.Claim(SessionKeys.Verifier(token), "leaver").Within()).Refusal);
        }
        finally
        {
            GrainCalls.Failing = null;
        }
    }
    [Fact]
    public async Task AUserWhoLeavesBeforeTheirGatewaySawRoomCodesMoveGivesTheTargetsSeatBackAtOnce()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync(silos: 2, chatCapacity: 1);
        string source = await cluster.CreateRoomAsync("chat");
        string target = await cluster.CreateRoomAsync("chat");
        await using Client client = await cluster.ConnectAsync("quick", cluster.Silos[0]);
        await client.JoinRoomAsync(source).Within();
        int seatsGivenBack = cluster.Log.Count(SeatGivenBackIn(target));
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            // Room code moves the user (a seat held in the target), but the move's record waits on its way to the
            // gateway; meanwhile the client asks to leave for the lobby.
            GrainCalls.Holding = new CallHold("IGatewayObserver.Receive", release.Task);
            int leaves = GrainCalls.To("IRoomGrain").GetValueOrDefault("IRoomGrain.Leave");
            client.Send(new Say("go:" + target));
            Task<ClientRoom> leaving = client.LeaveRoomAsync();
            await GrainCalls.Reached("IRoomGrain.Leave", leaves + 1).Within(what: "the gateway's call to take the user out of their room");

            release.SetResult();
            GrainCalls.Holding = null;
            Assert.Equal("lobby", (await leaving.Within()).Id);
        }
        finally
        {
            release.TrySetResult();
            GrainCalls.Holding = null;
        }

        // The target's seat is given back (event 9041) long before the target would give it back itself (30 s).
        await cluster.Log.WaitForCountAsync(SeatGivenBackIn(target), seatsGivenBack + 1, TimeSpan.FromSeconds(5));
        Assert.Equal(0, (await cluster.Cluster.Client.GetGrain<IRoomGrain>(target).Info().Within())!.Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ALivingGatewayThatTakesNoCallsPastTheBoundLosesItsUsersStaysWithTheReasonAndTheBacklogIsFreed(bool toldByADelivery)
    {
        const int bound = 32 * 1024;
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync(configure: wevis =>
        {
            wevis.Gateway.MaxFrameSize = 4096;
            wevis.Gateway.MaxQueuedBytesPerConnection = bound;
        });
        await using StuckGatewayRoom setup = await StuckGatewayRoom.StartAsync(cluster, "stuck-");
        (string room, IRoomGrain roomGrain, InProcessSiloHandle stuck, string victimName, Client victim, Client sender, string gatewayKey) = setup;
        string text = new('x', 1000);
        try
        {
            // The victim's gateway lives but fails every call the room makes to it: the sender's broadcasts (one at
            // a time: the sender's own connection has the same bound) pile up for it, past the bound (the gateway's
            // MaxQueuedBytesPerConnection) after some 32 of them. The room then ends the victim's stay there (the
            // leave hook announces it), as for a dead gateway.
            GrainCalls.FailingOn = new CallFault("IGatewayObserver.Receive", gatewayKey, AsTimeout: false);

            // The bound holds once a call to the gateway has gone unanswered (a gateway that takes its calls is not
            // held to it), so the first broadcast's call fails before the rest pile up: until it had, the broadcasts
            // made while it was on its way were not counted against the bound, and on a slow machine 17 KiB more than
            // the bound waited at the first check.
            int failedBefore = cluster.Log.Count(CallFailedIn(room));
            bool left = await SayAndHearAsync(sender, text, victimName + " left");
            await cluster.Log.WaitForCountAsync(CallFailedIn(room), failedBefore + 1);
            long most = 0;
            for (int i = 0; i < 200 && !left; i++)
            {
                left = await SayAndHearAsync(sender, text + i, victimName + " left");
                most = Math.Max(most, (await roomGrain.Info().Within())!.OutboxBacklog);
            }

            Assert.True(left, "the victim's stay did not end: " + most + " bytes waited for its gateway");
            Assert.InRange(most, 1, bound + 1100);
            Assert.Equal(1, (await roomGrain.Info().Within())!.Count);
            Assert.InRange((await roomGrain.Info().Within())!.OutboxBacklog, 0, ClosesOnly);

            // More broadcasts hold nothing for that gateway: its backlog was let go, and no user of it is left here
            // (what waits for it is the close of the victim's session, sent at once, not a frame).
            for (int i = 0; i < 40; i++)
            {
                await SayAndHearAsync(sender, "more" + i, null);
            }

            Assert.InRange((await roomGrain.Info().Within())!.OutboxBacklog, 0, ClosesOnly);

            if (toldByADelivery)
            {
                // Its next message (the gateway still fails the room's calls): the room's answer says the stay ended.
                victim.Send(new WhereAmI());
            }
            else
            {
                // The gateway takes calls again and hears from the room again (another of its users enters): the
                // room's first call says the victim's stay ended, though the victim said nothing.
                GrainCalls.FailingOn = null;
                await using Client other = await cluster.ConnectAsync("other-" + Guid.NewGuid().ToString("N")[..8], stuck);
                await other.JoinRoomAsync(room).Within();
            }

            // The victim's session closes with the room's reason; it is not entered again as if the room had restarted.
            ConnectionClosedException closed = await ClosedAsync(victim);
            Assert.Contains($"room {room} could not reach your gateway: more than {bound} bytes waited for it", closed.Reason, StringComparison.Ordinal);
        }
        finally
        {
            GrainCalls.FailingOn = null;
        }

        // The sender goes on; the room holds only them (and the other user, if one came).
        sender.Send(new WhereAmI());
        Assert.Equal(room, (await sender.WaitForAsync<YouAreIn>().Within(TimeSpan.FromSeconds(20))).Room);
        Assert.True(sender.IsConnected);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ALivingGatewayThatTakesNoCallsForLongerThanTheAgeBoundLosesItsUsersStaysWithTheReason(bool victimSpeaks)
    {
        // A quiet room: one frame waits for the gateway, far under the byte bound; only its age lets it go.
        TimeSpan maxAge = TimeSpan.FromSeconds(3);
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync(configure: wevis => wevis.MaxGatewayBacklogAge = maxAge);
        await using StuckGatewayRoom setup = await StuckGatewayRoom.StartAsync(cluster, "old-");
        (string room, IRoomGrain roomGrain, InProcessSiloHandle stuck, string victimName, Client victim, Client sender, string gatewayKey) = setup;
        try
        {
            // The victim's gateway lives but fails every call the room makes to it; the sender says one thing. Once
            // that frame is older than the bound, the room ends the victim's stay there (the leave hook announces it).
            GrainCalls.FailingOn = new CallFault("IGatewayObserver.Receive", gatewayKey, AsTimeout: false);
            sender.Send(new Say("hello"));
            Assert.Equal("hello", (await sender.WaitForAsync<Said>().Within(TimeSpan.FromSeconds(20))).Text);
            Assert.Equal(victimName + " left", (await sender.WaitForAsync<Said>().Within(TimeSpan.FromSeconds(30))).Text);
            if (victimSpeaks)
            {
                // Its next message (the gateway still fails the room's calls): the room's answer says why the stay ended.
                Assert.InRange((await roomGrain.Info().Within())!.OutboxBacklog, 0, ClosesOnly);
                victim.Send(new WhereAmI());
            }
            else
            {
                // The gateway takes the room's calls again, and the victim says nothing: the room tells the gateway at
                // once (not when it next has something for it), and the session closes.
                GrainCalls.FailingOn = null;
            }

            ConnectionClosedException closed = await ClosedAsync(victim);
            Assert.Contains($"room {room} could not reach your gateway: what waited for it was more than 3 s old", closed.Reason, StringComparison.Ordinal);
        }
        finally
        {
            GrainCalls.FailingOn = null;
        }

        sender.Send(new WhereAmI());
        Assert.Equal((room, 1), await sender.WaitForAsync<YouAreIn>().Within(TimeSpan.FromSeconds(20)) is var where ? (where.Room, where.Count) : default);
        Assert.Equal(1, (await roomGrain.Info().Within())!.Count);
    }

    /// <summary>The most a room holds for a gateway whose users' stays it ended: a close record for one session, with its reason.</summary>
    private const long ClosesOnly = 300;

    /// <summary>Says <paramref name="text"/> and reads until its echo; whether <paramref name="watched"/> was heard on the way.</summary>
    /// <summary>Receives on <paramref name="client"/> until its session closes; the exception that says why.</summary>
    private static Task<ConnectionClosedException> ClosedAsync(Client client) =>
        Assert.ThrowsAsync<ConnectionClosedException>(async () =>
        {
            while (true)
            {
                await client.ReceiveAsync().Within(TimeSpan.FromSeconds(20));
            }
        });

    /// <summary>
    /// A room with two users in it: the victim, connected to silo 1's gateway (the one a test makes fail the room's
    /// calls, by <see cref="GatewayKey"/>), and a sender on silo 0. Disposing it disposes both clients.
    /// </summary>
    private sealed record StuckGatewayRoom(string Room, IRoomGrain Grain, InProcessSiloHandle Silo, string VictimName, Client Victim, Client Sender, string GatewayKey) : IAsyncDisposable
    {
        public static async Task<StuckGatewayRoom> StartAsync(WevisTestCluster cluster, string victimPrefix)
        {
            string room = await cluster.CreateRoomAsync("chat");
            InProcessSiloHandle silo = cluster.Silos[1];
            string victimName = victimPrefix + Guid.NewGuid().ToString("N")[..8];
            Client victim = await cluster.ConnectAsync(victimName, silo);
            Client? sender = null;
            try
            {
                await victim.JoinRoomAsync(room).Within();
                sender = await cluster.ConnectAsync("talk-" + Guid.NewGuid().ToString("N")[..8], cluster.Silos[0]);
                await sender.JoinRoomAsync(room).Within();
                string gatewayKey = silo.ServiceProvider.GetRequiredService<WevisGateway>().Observer.GetGrainId().Key.ToString()!;
                return new StuckGatewayRoom(room, cluster.Cluster.Client.GetGrain<IRoomGrain>(room), silo, victimName, victim, sender, gatewayKey);
            }
            catch
            {
                if (sender is not null)
                {
                    await sender.DisposeAsync();
                }

                await victim.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await Sender.DisposeAsync();
            await Victim.DisposeAsync();
        }
    }

    private static async Task<bool> SayAndHearAsync(Client client, string text, string? watched)
    {
        client.Send(new Say(text));
        bool heard = false;
        while (await client.WaitForAsync<Said>().Within(TimeSpan.FromSeconds(20)) is { Text: var said } && said != text)
        {
            heard |= said == watched;
        }

        return heard;
    }

    [Fact]
    public async Task ALeaveMadeAgainWhileTheFirstIsStillInItsSlowLeaveHookWaitsForItAndRunsTheHookOnce()
    {
        // A short call timeout: the gateway's leave times out while the hook still runs, and the gateway makes it again.
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync(responseTimeout: TimeSpan.FromSeconds(2));
        string source = await cluster.CreateRoomAsync("slowleave");
        string target = await cluster.CreateRoomAsync("slowleave");
        await using Client watcher = await cluster.ConnectAsync("watch-" + Guid.NewGuid().ToString("N")[..8], cluster.Silos[0]);
        await watcher.JoinRoomAsync(source).Within();
        string name = "slow-" + Guid.NewGuid().ToString("N")[..8];
        await using Client client = await cluster.ConnectAsync(name, cluster.Silos[1]);
        await client.JoinRoomAsync(source).Within();
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var enteredTarget = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        SlowLeaveRoom.HeldLeaves[name] = hold;
        SlowLeaveRoom.Entered[name] = enteredTarget;
        int leaves = GrainCalls.To("IRoomGrain").GetValueOrDefault("IRoomGrain.Leave");
        try
        {
            Task<ClientRoom> join = client.JoinRoomAsync(target);

            // The source's leave hook holds the first leave past the call timeout: the gateway makes the leave again,
            // and again once that repeat times out too, having waited for the first. Had a repeat returned at once,
            // the gateway would have entered the user into the target before the hook was done.
            await Task.WhenAny(GrainCalls.Reached("IRoomGrain.Leave", leaves + 3), enteredTarget.Task).Within(TimeSpan.FromSeconds(30));
            hold.TrySetResult();
            Assert.Equal(target, (await join.Within(TimeSpan.FromSeconds(20))).Id);
        }
        finally
        {
            hold.TrySetResult();
            SlowLeaveRoom.HeldLeaves.TryRemove(name, out _);
            SlowLeaveRoom.Entered.TryRemove(name, out _);
        }

        // The hook ran once and was done before the user entered the target; the user is in the target only.
        string[] events = [.. SlowLeaveRoom.Events.Where(e => e.EndsWith(" " + name, StringComparison.Ordinal))];
        Assert.Equal([$"enter {source} {name}", $"left {source} {name}", $"enter {target} {name}"], events);
        Assert.True(GrainCalls.To("IRoomGrain").GetValueOrDefault("IRoomGrain.Leave") >= leaves + 2, "the leave was not made again");
        client.Send(new WhereAmI());
        Assert.Equal((target, 1), await client.WaitForAsync<YouAreIn>().Within(TimeSpan.FromSeconds(20)) is var where ? (where.Room, where.Count) : default);
        Assert.True(client.IsConnected, "the session was closed");
        Assert.Equal(1, (await cluster.Cluster.Client.GetGrain<IRoomGrain>(source).Info().Within())!.Count);
        watcher.Send(new Say("mark"));
        var heard = new List<string>();
        while (await watcher.WaitForAsync<Said>().Within(TimeSpan.FromSeconds(10)) is { Text: var text } && text != "mark")
        {
            heard.Add(text);
        }

        Assert.Equal([name + " left"], heard);
    }
}
