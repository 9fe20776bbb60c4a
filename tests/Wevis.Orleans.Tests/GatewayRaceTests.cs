using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using Wevis.Orleans.Tests.Messages;
using Wevis.Protocol;
using Wevis.Serialization;
using Wevis.Tests.Shared;
using Xunit.Abstractions;

namespace Wevis.Orleans.Tests;

/// <summary>
/// Two gateways asked to resume the same session at once (a client that retried, or two copies of one token): one
/// resume goes through, the other is refused; the room has the user once, and the one that resumed gets every frame
/// once and in order.
/// </summary>
[Collection("cluster")]
public sealed class GatewayRaceTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TwoResumesOfOneSessionAtTwoGatewaysAtOnceLetExactlyOneThroughWithEveryFrameOnceAndInOrder(bool deathKnownFirst)
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync();
        string roomId = await cluster.CreateRoomAsync("numbered");
        InProcessSiloHandle roomHost = cluster.HostOf(roomId)!;
        InProcessSiloHandle doomed = cluster.Silos.First(s => s != roomHost);
        InProcessSiloHandle[] racers = [.. cluster.Silos.Where(s => s != doomed)];
        string user = "race-" + Guid.NewGuid().ToString("N")[..8];

        // A resumable session at the doomed gateway, in the numbered room: 60 messages sent, 40 replies read.
        const int Sent = 60;
        const int Read = 40;
        const int Count = 200;
        string token;
        long received;
        await using (RawSession first = await RawSession.ConnectAsync(cluster.PortOf(doomed)))
        {
            LoginAnswer login = await first.LoginAsync(user, string.Empty, 0);
            Assert.Null(login.Refusal);
            token = login.Token!;
            await first.SendAsync(new JoinRoom(1, roomId));
            while (await first.ReceiveAsync() is not RoomChanged changed || changed.Room != roomId)
            {
            }

            for (int i = 0; i < Sent; i++)
            {
                await first.SendAsync(new Numbered(i));
            }

            for (int i = 0; i < Read; i++)
            {
                Assert.Equal(new NumberedReply(i), await first.ReceiveAsync());
            }

            // Sure the room had handled all 60 before the crash (its replies are on their way): a known start.
            NumberedLedger handled = NumberedLedger.For(user);
            await handled.Changes.Until(() => Volatile.Read(ref handled.Next) == Sent);
            received = first.Received;

            doomed.ServiceProvider.GetRequiredService<WevisGateway>().Crash();
        }

        Task killing = cluster.Cluster.KillSiloAsync(doomed);
        NumberedLedger ledger = NumberedLedger.For(user);
        if (deathKnownFirst)
        {
            // The room has heard of the death and holds the user as dropped (drop hook) when the resumes come.
            await killing.Within(TimeSpan.FromSeconds(30));
            await ledger.Changes.Until(() => Volatile.Read(ref ledger.Dropped) == 1);
        }

        // Two connections, one at each other gateway, present the token at the same moment.
        await using RawSession a = await RawSession.ConnectAsync(cluster.PortOf(racers[0]));
        await using RawSession b = await RawSession.ConnectAsync(cluster.PortOf(racers[1]));
        LoginAnswer[] answers = await Task.WhenAll(a.LoginAsync(user, token, received), b.LoginAsync(user, token, received)).Within(TimeSpan.FromSeconds(60));
        output.WriteLine($"a: {answers[0]}; b: {answers[1]}");

        // Exactly one went through; the other was told why.
        Assert.Single(answers, answer => answer.Refusal is null);
        LoginAnswer refused = Assert.Single(answers, answer => answer.Refusal is not null);
        Assert.Equal("resume refused: " + RoomGrain.TakenOverRefusal, refused.Refusal);
        RawSession winner = answers[0].Refusal is null ? a : b;
        RawSession loser = answers[0].Refusal is null ? b : a;
        Assert.True(await loser.IsClosedAsync(), "the refused connection was left open");

        // The room had handled all 60 messages (and the join): the winner is told so, and gets the 20 replies its
        // client had not read, then the rest as it sends the rest; each once, in order, nothing else.
        LoginAnswer won = answers[0].Refusal is null ? answers[0] : answers[1];
        Assert.Equal(Sent + 1, won.Handled);
        for (int i = Sent; i < Count; i++)
        {
            await winner.SendAsync(new Numbered(i));
        }

        for (int i = Read; i < Count; i++)
        {
            Assert.Equal(new NumberedReply(i), await winner.ReceiveAsync().Within(TimeSpan.FromSeconds(30)));
        }

        await killing.Within(TimeSpan.FromSeconds(30));

        // The room handled each message once, has the user once, and they never left; the winner is still theirs.
        Assert.Equal(Count, Volatile.Read(ref ledger.Next));
        Assert.Equal(0, Volatile.Read(ref ledger.Duplicates));
        Assert.Equal(0, Volatile.Read(ref ledger.Gaps));
        Assert.Equal(0, Volatile.Read(ref ledger.Leaves));
        if (deathKnownFirst)
        {
            // One drop, one resume: the loser ran no hook.
            Assert.Equal(1, Volatile.Read(ref ledger.Dropped));
            Assert.Equal(1, Volatile.Read(ref ledger.Resumed));
        }

        Assert.Equal(1, (await cluster.Cluster.Client.GetGrain<IRoomGrain>(roomId).Info().Within())!.Count);
        await winner.SendAsync(new Numbered(Count));
        Assert.Equal(new NumberedReply(Count), await winner.ReceiveAsync().Within(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task AFailedHeldByLeavesTheSessionGoingOnAndItSurvivesTheNewGatewaysDeathToo()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync();
        string roomId = await cluster.CreateRoomAsync("numbered");
        var (connected, gateways, ports, ledger) = await ConnectAroundRoomAsync(cluster, roomId, "hb");
        await using Client client = connected;
        try
        {
            // The first gateway crashes; the resume at the second cannot tell the session grain it holds the session.
            // The session goes on there; then that gateway crashes too, and the client resumes at the third.
            GrainCalls.Failing = "ISessionGrain.HeldBy";
            Task? killing = null;
            Task? killingAgain = null;
            int port = 0;
            var (replies, repeats) = await ClusterResumeTests.ExchangeAsync(client, 200, 20, n =>
            {
                if (n == 50)
                {
                    killing = cluster.CrashGatewayAsync(gateways[0]);
                }
                else if (n == 120)
                {
                    GrainCalls.Failing = null;
                    port = client.Port;
                    killingAgain = cluster.CrashGatewayAsync(gateways[1]);
                }
            }).Within(TimeSpan.FromSeconds(60));
            await killing!.Within(TimeSpan.FromSeconds(30));
            await killingAgain!.Within(TimeSpan.FromSeconds(30));
            Assert.Equal(ports[1], port);
            Assert.Equal(200, replies);
            Assert.Empty(repeats);
        }
        finally
        {
            GrainCalls.Failing = null;
        }

        Assert.Equal(ports[2], client.Port);
        Assert.Equal(0, Volatile.Read(ref ledger.Duplicates));
        Assert.Equal(0, Volatile.Read(ref ledger.Leaves));

        // Both takeovers began from the record the failed HeldBy left (the login's, holding 0), yet the second holder's
        // holding is newer than the first's: the first, were it alive, could not take the record back.
        // Asked through the live silo: the test cluster's client may still try the dead silos' gateways.
        InProcessSiloHandle live = cluster.HostOf(roomId)!;
        string token = client.ResumeToken!;
        SessionClaim claim = await live.ServiceProvider.GetRequiredService<IGrainFactory>().GetGrain<ISessionGrain>(SessionKeys.Key(token))
            .Claim(SessionKeys.Verifier(token), client.Username).Within();
        Assert.Equal((live.SiloAddress.ToParsableString(), 2), (claim.GatewayId, claim.Holding));
    }

    [Fact]
    public async Task AMoveAfterAFailedHeldByPutsTheSessionsRecordRightForTheNextGatewaysDeath()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync();
        string first = await cluster.CreateRoomAsync("numbered");
        InProcessSiloHandle roomHost = cluster.HostOf(first)!;
        string? second = null;
        for (int attempt = 0; attempt < 40 && second is null; attempt++)
        {
            string made = await cluster.CreateRoomAsync("numbered");
            second = cluster.HostOf(made) == roomHost ? made : null;
        }

        Assert.NotNull(second);
        var (connected, gateways, ports, ledger) = await ConnectAroundRoomAsync(cluster, first, "mv");
        await using Client client = connected;
        try
        {
            // The first gateway crashes; the resume at the second cannot tell the session grain it holds the session.
            GrainCalls.Failing = "ISessionGrain.HeldBy";
            var (replies, repeats) = await ClusterResumeTests.ExchangeCrashingAsync(cluster, client, 60, 10, 20, gateways[0]);
            Assert.Equal(60, replies);
            Assert.Empty(repeats);
        }
        finally
        {
            GrainCalls.Failing = null;
        }

        Assert.Equal(ports[1], client.Port);

        // The user moves (in the same node's other room): the record is told where they are, and who holds them.
        await client.JoinRoomAsync(second!).Within();
        Volatile.Write(ref ledger.Next, 0);
        var (again, repeatedAgain) = await ClusterResumeTests.ExchangeCrashingAsync(cluster, client, 100, 10, 40, gateways[1]);
        Assert.Equal(100, again);
        Assert.Empty(repeatedAgain);
        Assert.Equal(ports[2], client.Port);
        Assert.Equal(0, Volatile.Read(ref ledger.Duplicates));
        Assert.Equal(0, Volatile.Read(ref ledger.Gaps));
        Assert.Equal(1, Volatile.Read(ref ledger.Leaves)); // the move's, from the first room
    }

    [Theory]
    [InlineData("ISessionGrain.Claim")]
    [InlineData("IRoomGrain.TakeOver")]
    public async Task AResumeWhoseGrainCallFailsIsTriedAgainAndTheSessionGoesOn(string failing)
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync();
        string roomId = await cluster.CreateRoomAsync("numbered");
        var (connected, gateways, ports, ledger) = await ConnectAroundRoomAsync(cluster, roomId, "gf");
        await using Client client = connected;
        string grain = failing[..failing.IndexOf('.')];
        Task? killing = null;
        Task? healing = null;
        try
        {
            // The first gateway crashes; the resume's first attempt meets a failing grain call (not a refusal): the
            // client must not be told its session is over, and its next attempt goes through.
            var (replies, repeats) = await ClusterResumeTests.ExchangeAsync(client, 120, 10, n =>
            {
                if (n == 40)
                {
                    int before = GrainCalls.To(grain).GetValueOrDefault(failing);
                    GrainCalls.Failing = failing;
                    healing = Task.Run(async () =>
                    {
                        await GrainCalls.Reached(failing, before + 1).Within(what: $"a call of {failing} (which fails)");
                        GrainCalls.Failing = null;
                    });
                    killing = cluster.CrashGatewayAsync(gateways[0]);
                }
            }).Within(TimeSpan.FromSeconds(60));
            await killing!.Within(TimeSpan.FromSeconds(30));
            await healing!.Within(TimeSpan.FromSeconds(30));
            Assert.Equal(120, replies);
            Assert.Empty(repeats);
        }
        finally
        {
            GrainCalls.Failing = null;
        }

        Assert.True(client.ResumeCount >= 1);
        Assert.NotEqual(ports[0], client.Port);
        Assert.Equal(0, Volatile.Read(ref ledger.Duplicates));
        Assert.Equal(0, Volatile.Read(ref ledger.Gaps));
        Assert.Equal(0, Volatile.Read(ref ledger.Leaves));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ATakeOverWhoseReplyWasLostIsAnsweredAgainWhenTriedAgainAndTheSessionGoesOn(bool hookMovesTheUser)
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync();
        string roomId = await cluster.CreateRoomAsync("numbered");
        var (connected, gateways, ports, ledger) = await ConnectAroundRoomAsync(cluster, roomId, "lr");
        await using Client client = connected;
        string? next = null;
        if (hookMovesTheUser)
        {
            // The resume waits (at its Claim) until the room has run the drop hook, so the takeover runs the resume
            // hook, which moves the user on: the room, emptied, is disposed before the gateway tries again, and must
            // still give the same answer (and the gateway follow the move it heard of before it had the user).
            next = await cluster.CreateRoomAsync("numbered");
            ledger.MoveOnResume = next;
            ledger.DropSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            GrainCalls.Holding = new CallHold("ISessionGrain.Claim", ledger.DropSeen.Task);
        }

        Task? killing = null;
        int before = 0;
        try
        {
            // The first gateway crashes; the room switches the user to the resuming gateway, but its answer is lost (the
            // call times out). The gateway tries again: the room must give the same answer, not "taken over".
            var (replies, repeats) = await ClusterResumeTests.ExchangeAsync(client, 120, 10, n =>
            {
                if (n == 40)
                {
                    before = GrainCalls.To("IRoomGrain").GetValueOrDefault("IRoomGrain.TakeOver");
                    Volatile.Write(ref GrainCalls.LosingReply, "IRoomGrain.TakeOver");
                    killing = cluster.CrashGatewayAsync(gateways[0]);
                }
            }).Within(TimeSpan.FromSeconds(60));
            await killing!.Within(TimeSpan.FromSeconds(30));
            Assert.Equal(120, replies);
            Assert.Empty(repeats);
        }
        finally
        {
            Volatile.Write(ref GrainCalls.LosingReply, null);
            GrainCalls.Holding = null;
        }

        Assert.True(client.ResumeCount >= 1);
        Assert.Equal(ports[1], client.Port);
        Assert.True(GrainCalls.To("IRoomGrain").GetValueOrDefault("IRoomGrain.TakeOver") >= before + 2, "the takeover was tried again");
        AssertHandledOnceAndMovedTo(client, ledger, next);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ATakeOverTriedAgainWhileTheFirstCallIsStillInTheResumeHookIsAnsweredOnceThatIsDone(bool hookMovesTheUser)
    {
        // Logins may take long here, and be silent (the crashed gateway's connections are cut, so nothing waits on a
        // silence): the takeover is held past the gateway's call timeout (5 s) on purpose.
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync(configure: wevis => wevis.Gateway.LoginTimeout = TimeSpan.FromSeconds(40));
        string roomId = await cluster.CreateRoomAsync("numbered");
        var (connected, gateways, ports, ledger) = await ConnectAroundRoomAsync(cluster, roomId, "sh", TimeSpan.FromSeconds(40));
        await using Client client = connected;
        string? next = null;
        if (hookMovesTheUser)
        {
            // Room code moves the user on before the retry comes: the retry must still get the first call's answer.
            next = await cluster.CreateRoomAsync("numbered");
            ledger.MoveOnResume = next;
        }

        // The resume hook is held until the gateway, its call timed out, has tried the takeover again: the retry must
        // get the first call's answer once it is done, not "taken over".
        await CrashHoldingTheResumeHookAsync(cluster, client, gateways[0], ledger, "IRoomGrain.TakeOver", 2);

        Assert.Equal(1, client.ResumeCount);
        Assert.Equal(ports[1], client.Port);
        Assert.Equal((1, 1), (Volatile.Read(ref ledger.Dropped), Volatile.Read(ref ledger.Resumed)));
        AssertHandledOnceAndMovedTo(client, ledger, next);
    }

    [Fact]
    public async Task AMoveTheResumeHookMakesDuringATakeOverReachesAClientThatSendsNothingAfter()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync();
        string roomId = await cluster.CreateRoomAsync("numbered");
        var (connected, gateways, ports, ledger) = await ConnectAroundRoomAsync(cluster, roomId, "mi");
        await using Client client = connected;
        string next = await cluster.CreateRoomAsync("numbered");
        ledger.MoveOnResume = next;
        ledger.DropSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (replies, repeats) = await ClusterResumeTests.ExchangeAsync(client, 40, 10, _ => { }).Within(TimeSpan.FromSeconds(30));
        Assert.Equal(40, replies);
        Assert.Empty(repeats);
        try
        {
            // The resume waits (at its Claim) until the room has run the drop hook, so the takeover runs the resume hook,
            // whose move reaches the new gateway before the takeover's answer. Nothing is delivered after it (the client
            // is idle), so only the gateway can follow the move.
            GrainCalls.Holding = new CallHold("ISessionGrain.Claim", ledger.DropSeen.Task);
            Task moved = client.InRoomAsync(next);
            await cluster.CrashGatewayAsync(gateways[0]).Within(TimeSpan.FromSeconds(30));
            await moved.Within(TimeSpan.FromSeconds(30), $"the client told it is in {next}");
        }
        finally
        {
            GrainCalls.Holding = null;
        }

        Assert.Equal(1, client.ResumeCount);
        Assert.Equal(ports[1], client.Port);
        AssertHandledOnceAndMovedTo(client, ledger, next);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ATakeOverTheGatewayGaveUpOnLeavesTheUserHeldForTheClientsNextResume(bool nextResumeComesBeforeTheHookEnds)
    {
        // A grace period of 10 s makes the gateway's patience with the room 10 s: the resume hook is held past it, so the
        // gateway gives up and tells the client to try again, while the room has switched the user to it.
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync(configure: wevis =>
        {
            wevis.Gateway.LoginTimeout = TimeSpan.FromSeconds(40);
            wevis.Gateway.ResumeGracePeriod = TimeSpan.FromSeconds(10);
        });
        string roomId = await cluster.CreateRoomAsync("numbered");
        var (connected, gateways, ports, ledger) = await ConnectAroundRoomAsync(cluster, roomId, "ab", TimeSpan.FromSeconds(40));
        await using Client client = connected;
        if (nextResumeComesBeforeTheHookEnds)
        {
            // The hook outlasts the gateway's call telling the room it gave up (5 s): the client's next resume (the
            // third TakeOver) reaches the room while the user is not yet held, and must wait for it, not be refused.
            await CrashHoldingTheResumeHookAsync(cluster, client, gateways[0], ledger, "IRoomGrain.TakeOver", 3);
        }
        else
        {
            await CrashHoldingTheResumeHookAsync(cluster, client, gateways[0], ledger, "IRoomGrain.AbandonTakeOver", 1);
        }

        // Held again once the gateway gave up (a second drop), and resumed through the next gateway.
        Assert.Equal(1, client.ResumeCount);
        Assert.Equal(ports[2], client.Port);
        Assert.Equal((2, 2), (Volatile.Read(ref ledger.Dropped), Volatile.Read(ref ledger.Resumed)));
        AssertHandledOnceAndMovedTo(client, ledger, null);
    }

    [Fact]
    public async Task AHandOverWaitingForADeliveryDoesNotHoldUpWhatRoomsSendTheOldGatewaysOtherUsers()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync();
        string roomId = await cluster.CreateRoomAsync("chat");
        InProcessSiloHandle a = cluster.Silos[0];
        InProcessSiloHandle b = cluster.Silos[1];
        await using Client bystander = await cluster.ConnectAsync("by-" + Guid.NewGuid().ToString("N")[..8], a);
        await bystander.JoinRoomAsync(roomId).Within();
        string user = "ho-" + Guid.NewGuid().ToString("N")[..8];
        await using RawSession first = await RawSession.ConnectAsync(cluster.PortOf(a));
        LoginAnswer login = await first.LoginAsync(user, string.Empty, 0);
        Assert.Null(login.Refusal);
        await first.SendAsync(new JoinRoom(1, roomId));
        while (await first.ReceiveAsync() is not RoomChanged changed || changed.Room != roomId)
        {
        }

        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<LoginAnswer> resuming;
        await using RawSession second = await RawSession.ConnectAsync(cluster.PortOf(b));
        try
        {
            // The user's delivery is held at the room; meanwhile their client resumes at the other gateway, which asks
            // the first to let go: the first waits for the delivery, whose answer waits for the room's broadcast to
            // reach the first gateway (the session is resumable).
            int delivers = GrainCalls.To("IRoomGrain").GetValueOrDefault("IRoomGrain.Deliver");
            int handOvers = GrainCalls.To("IGatewayObserver").GetValueOrDefault("IGatewayObserver.HandOver");
            GrainCalls.Holding = new CallHold("IRoomGrain.Deliver", release.Task);
            await first.SendAsync(new Say("from the resumed user"));
            await GrainCalls.Reached("IRoomGrain.Deliver", delivers + 1).Within(what: "the held delivery reaching the room");
            resuming = second.LoginAsync(user, login.Token!, first.Received);
            await GrainCalls.Reached("IGatewayObserver.HandOver", handOvers + 1).Within(what: "the new gateway's call asking the first to let go");
        }
        finally
        {
            GrainCalls.Holding = null;
            release.TrySetResult();
        }

        // The room's broadcasts reach the first gateway's other user at once, not after a call times out.
        bystander.Send(new Say("from the bystander"));
        while ((await bystander.WaitForAsync<Said>().Within(TimeSpan.FromSeconds(2))).Text != "from the bystander")
        {
        }

        LoginAnswer resumed = await resuming.Within(TimeSpan.FromSeconds(30));
        Assert.Null(resumed.Refusal);
        Assert.Equal(2, resumed.Handled); // the join and the message, each handled once
    }

    [Fact]
    public async Task AResumeElsewhereWhileTheOldGatewayFinishesARoomChangeTakesTheUserOverInTheNewRoom()
    {
        await using WevisTestCluster cluster = await WevisTestCluster.StartAsync();
        InProcessSiloHandle a = cluster.Silos[0];
        InProcessSiloHandle b = cluster.Silos[1];
        string user = "rc-" + Guid.NewGuid().ToString("N")[..8];
        await using RawSession first = await RawSession.ConnectAsync(cluster.PortOf(a));
        LoginAnswer login = await first.LoginAsync(user, string.Empty, 0);
        Assert.Null(login.Refusal);
        while (await first.ReceiveAsync() is not RoomChanged { Room: RoomDirectory.EntryRoomName })
        {
        }

        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<LoginAnswer> resuming;
        await using RawSession second = await RawSession.ConnectAsync(cluster.PortOf(b));
        try
        {
            // The user's entry into the room they asked for is held; meanwhile their client resumes at the other
            // gateway, which reads the session's record (the entry room still) and asks the first gateway to let go.
            // The first finishes the room change (the record then names the new room) and lets go.
            int enters = GrainCalls.To("IRoomGrain").GetValueOrDefault("IRoomGrain.Enter");
            int handOvers = GrainCalls.To("IGatewayObserver").GetValueOrDefault("IGatewayObserver.HandOver");
            GrainCalls.Holding = new CallHold("IRoomGrain.Enter", release.Task);
            await first.SendAsync(new JoinOrCreateRoom(1, "chat"));
            await GrainCalls.Reached("IRoomGrain.Enter", enters + 1).Within(what: "the held entry reaching the room");
            resuming = second.LoginAsync(user, login.Token!, first.Received);
            await GrainCalls.Reached("IGatewayObserver.HandOver", handOvers + 1).Within(what: "the new gateway's call asking the first to let go");
        }
        finally
        {
            GrainCalls.Holding = null;
            release.TrySetResult();
        }

        // The resume takes the user over where they are now, not where they were when it began.
        LoginAnswer resumed = await resuming.Within(TimeSpan.FromSeconds(30));
        Assert.Null(resumed.Refusal);
        Assert.Equal(1, resumed.Handled);
        RoomChanged changed = Assert.IsType<RoomChanged>(await second.ReceiveAsync());
        Assert.Equal((1, "chat"), (changed.Request, changed.Type));
        await second.SendAsync(new WhereAmI());
        Assert.Equal(changed.Room, Assert.IsType<YouAreIn>(await second.ReceiveAsync()).Room);
    }

    /// <summary>
    /// Every message was handled once, none skipped; and the user left no room but by the resume hook's move to
    /// <paramref name="movedTo"/> (if any), which the client followed.
    /// </summary>
    private static void AssertHandledOnceAndMovedTo(Client client, NumberedLedger ledger, string? movedTo)
    {
        Assert.Equal(0, Volatile.Read(ref ledger.Duplicates));
        Assert.Equal(0, Volatile.Read(ref ledger.Gaps));
        Assert.Equal(movedTo is null ? 0 : 1, Volatile.Read(ref ledger.Leaves)); // the move's, from the first room
        if (movedTo is not null)
        {
            Assert.True(ledger.MovedOnResume?.Accepted, ledger.MovedOnResume?.ToString());
            Assert.Equal(movedTo, client.Room?.Id);
        }
    }

    /// <summary>
    /// Exchanges 80 numbered messages; after the 40th reply <paramref name="firstGateway"/> crashes. The resume waits (at
    /// its Claim) until the room has run the drop hook, so the takeover runs the resume hook, which is held until
    /// <paramref name="method"/> ("IRoomGrain.TakeOver") has been called <paramref name="calls"/> more times.
    /// </summary>
    private static async Task CrashHoldingTheResumeHookAsync(WevisTestCluster cluster, Client client, InProcessSiloHandle firstGateway, NumberedLedger ledger, string method, int calls)
    {
        int Calls() => GrainCalls.To(method[..method.IndexOf('.')]).GetValueOrDefault(method);
        ledger.DropSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ledger.HoldResume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task? killing = null;
        Task? releasing = null;
        try
        {
            GrainCalls.Holding = new CallHold("ISessionGrain.Claim", ledger.DropSeen.Task);
            var (replies, repeats) = await ClusterResumeTests.ExchangeAsync(client, 80, 10, n =>
            {
                if (n == 40)
                {
                    int before = Calls();
                    killing = cluster.CrashGatewayAsync(firstGateway);
                    releasing = Task.Run(async () =>
                    {
                        await GrainCalls.Reached(method, before + calls).Within(TimeSpan.FromSeconds(40), $"{calls} more calls of {method}");
                        ledger.HoldResume.SetResult();
                    });
                }
            }).Within(TimeSpan.FromSeconds(90));
            await killing!.Within(TimeSpan.FromSeconds(30));
            await releasing!.Within(TimeSpan.FromSeconds(30));
            Assert.Equal(80, replies);
            Assert.Empty(repeats);
        }
        finally
        {
            GrainCalls.Holding = null;
            ledger.HoldResume.TrySetResult();
        }
    }

    /// <summary>
    /// A resumable client of a new user in the "numbered" room <paramref name="roomId"/>, given every gateway but the
    /// room's node first (in <paramref name="gateways"/>' order) and the room's node last, as its endpoints (their
    /// <paramref name="ports"/>); <paramref name="ledger"/> is what the room saw of the user.
    /// </summary>
    private static async Task<(Client Client, InProcessSiloHandle[] Gateways, int[] Ports, NumberedLedger Ledger)> ConnectAroundRoomAsync(WevisTestCluster cluster, string roomId, string prefix, TimeSpan? patience = null)
    {
        InProcessSiloHandle roomHost = cluster.HostOf(roomId)!;
        InProcessSiloHandle[] gateways = [.. cluster.Silos.Where(s => s != roomHost)];
        string user = prefix + "-" + Guid.NewGuid().ToString("N")[..8];
        int[] ports = [.. gateways.Append(roomHost).Select(cluster.PortOf)];
        Client client = ClusterResumeTests.CreateClient(user, [.. ports.Select(p => new DnsEndPoint("127.0.0.1", p))], patience);
        try
        {
            await client.ConnectAsync().Within(TimeSpan.FromSeconds(20));
            await client.JoinRoomAsync(roomId).Within();
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }

        return (client, gateways, ports, NumberedLedger.For(user));
    }

    /// <summary>What a login with a resume request got: the token and the count of handled messages, or the refusal.</summary>
    private sealed record LoginAnswer(string? Token, long Handled, string? Refusal);

    /// <summary>
    /// A client of a resumable session on a raw socket: the test says exactly when each message goes, and counts the
    /// server's sequenced messages itself (acknowledging each, answering pings).
    /// </summary>
    private sealed class RawSession : IAsyncDisposable
    {
        private static readonly MessageRegistry Wire = MessageRegistry.Combine(Wevis.WevisRegistry.Messages, WevisRegistry.Messages);
        private readonly Socket _socket;
        private readonly NetworkStream _stream;
        private readonly Welcome _welcome;

        private RawSession(Socket socket, NetworkStream stream, Welcome welcome) => (_socket, _stream, _welcome) = (socket, stream, welcome);

        /// <summary>The server's sequenced messages read so far, on this session's whole life.</summary>
        public long Received { get; private set; }

        public static async Task<RawSession> ConnectAsync(int port)
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(IPAddress.Loopback, port).Within();
            var stream = new NetworkStream(socket, ownsSocket: true);
            var welcome = (Welcome)await ReadAsync(stream).Within();
            return new RawSession(socket, stream, welcome);
        }

        /// <summary>Logs in asking for a resumable session (empty token) or to resume one, having read <paramref name="received"/> of its messages.</summary>
        public async Task<LoginAnswer> LoginAsync(string user, string token, long received)
        {
            Received = received;
            await WriteAsync(new Resume(token, received));
            await WriteAsync(new Login(user, Credentials.Encrypt(WevisTestCluster.Password, _welcome.Salt), WevisTestCluster.Version, WevisRegistry.Messages.Fingerprint));
            IMessage answer = await ReadAsync(_stream).Within(TimeSpan.FromSeconds(30));
            if (answer is LoginRejected rejected)
            {
                return new LoginAnswer(null, 0, rejected.Reason);
            }

            var resumed = Assert.IsType<Resumed>(answer);
            Assert.IsType<LoginAccepted>(await ReadAsync(_stream).Within());
            return new LoginAnswer(resumed.Token, resumed.Received, null);
        }

        public Task SendAsync(IMessage message) => WriteAsync(message);

        /// <summary>The server's next sequenced message (acknowledged at once); pings are answered, acknowledgements skipped.</summary>
        public async Task<IMessage> ReceiveAsync()
        {
            while (true)
            {
                IMessage message = await ReadAsync(_stream).Within(TimeSpan.FromSeconds(30));
                switch (message)
                {
                    case Ping:
                        await WriteAsync(new Pong());
                        continue;
                    case Ack:
                        continue;
                    case Closing closing:
                        throw new InvalidOperationException("the server closed the session: " + closing.Reason);
                }

                Received++;
                await WriteAsync(new Ack(Received));
                return message;
            }
        }

        /// <summary>Whether the server closes the connection (within 10 s), reading past anything it sent first.</summary>
        public async Task<bool> IsClosedAsync()
        {
            try
            {
                while (true)
                {
                    _ = await ReadAsync(_stream).WaitAsync(TimeSpan.FromSeconds(10));
                }
            }
            catch (TimeoutException)
            {
                return false;
            }
            catch (Exception ex) when (ex is EndOfStreamException or IOException or SocketException)
            {
                return true;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stream.DisposeAsync();
            _socket.Dispose();
        }

        private async Task WriteAsync(IMessage message)
        {
            byte[] body = MessageSerializer.ToBytes(message);
            byte[] frame = new byte[4 + body.Length];
            BinaryPrimitives.WriteInt32BigEndian(frame, body.Length);
            body.CopyTo(frame, 4);
            await _stream.WriteAsync(frame);
        }

        private static async Task<IMessage> ReadAsync(Stream stream)
        {
            byte[] head = new byte[4];
            await stream.ReadExactlyAsync(head);
            byte[] body = new byte[BinaryPrimitives.ReadInt32BigEndian(head)];
            await stream.ReadExactlyAsync(body);
            return MessageSerializer.Read(body, Wire);
        }
    }
}
