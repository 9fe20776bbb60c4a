using Wevis.Protocol;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Sessions;

namespace Wevis.Runtime.Tests.Resume;

/// <summary>
/// A resume token the server does not know, which its host finds elsewhere (as a cluster gateway does for a session
/// whose gateway died): the session is adopted with the counts and frames the host hands over, and continues the
/// numbering the client expects.
/// </summary>
public class ResumeElsewhereTests
{
    private const string Token = "ElsewhereTokenAAAAAAAA";

    [Fact]
    public async Task ASessionFoundElsewhereIsAdoptedOnceAndASecondConnectionWaitsThenResumesItHere()
    {
        // Two connections of the user at once (the first, abandoned by its client, has not closed yet).
        await using TestServer server = await ResumeExchange.StartServerAsync(new ResumeRoom(), o => o.MaxConnectionsPerUser = 2);
        var looking = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var receiver = new Receiver();
        int calls = 0;
        server.Server.ResumeElsewhere = async (session, user, token) =>
        {
            Interlocked.Increment(ref calls);
            Assert.Equal(Token, token);
            looking.TrySetResult();
            await release.Task;

            // Elsewhere, 3 of the client's messages were handled; frames 6 and 7 were sent after the 5 it acknowledged.
            byte[] frames = [.. RawPeer.Frame(new JoinRefused(6, "six")), .. RawPeer.Frame(new JoinRefused(7, "seven"))];
            return new SessionElsewhere(receiver, 3, 5, frames, null);
        };

        // The first connection's look takes a while; the client gives up on it and tries again meanwhile. The look is
        // let go only once the second connection says it waits for it.
        using RawPeer first = await StartResumeAsync(server, received: 6);
        await looking.Task.Within();
        using RawPeer second = await StartResumeAsync(server, received: 6);
        try
        {
            await server.Log.WaitForAsync(e => e.EventId.Id == 46);
        }
        finally
        {
            // Let go whatever happened: the server's stop would wait for the look.
            release.SetResult();
        }

        // The first adopts it: told 3 handled, then frame 7 (the client had 6).
        Assert.Equal(new Resumed(Token, 3), await first.ReceiveAsync());
        Assert.IsType<LoginAccepted>(await first.ReceiveAsync());
        Assert.Equal(new JoinRefused(7, "seven"), await first.ReceiveAsync());

        // The second waited, then found the session here and resumed it, taking it from the first.
        Assert.Equal(new Resumed(Token, 3), await second.ReceiveAsync());
        Assert.IsType<LoginAccepted>(await second.ReceiveAsync());
        Assert.Equal(new JoinRefused(7, "seven"), await second.ReceiveAsync());
        Assert.Equal(1, Volatile.Read(ref calls));
        Assert.Equal(0, Volatile.Read(ref receiver.Ends));
        Assert.Contains(server.Log.Entries, e => e.EventId.Id == 29);
    }

    [Fact]
    public async Task ASecondResumeLandingDuringAnAdoptionWaitsForItThenTakesOver()
    {
        // The first connection has adopted the session (published it here) but not yet resumed it on itself when the
        // client, which gave up on that connection, resumes on a second one: the second finds the session here and
        // must wait for the adoption to finish (then take over, as behind any resume), not take the session from under
        // the adopter, which was then refused with 'another connection is resuming the session'.
        await using TestServer server = await ResumeExchange.StartServerAsync(new ResumeRoom(), o => o.MaxConnectionsPerUser = 2);
        var receiver = new Receiver();
        server.Server.ResumeElsewhere = (session, user, token) =>
            ValueTask.FromResult(new SessionElsewhere(receiver, 3, 5, RawPeer.Frame(new JoinRefused(6, "six")), null));
        using var adoptionHeld = new ManualResetEventSlim();
        var adopted = new TaskCompletionSource<LogEntry>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Log.Logged = entry =>
        {
            if (entry.EventId.Id == 29 && adopted.TrySetResult(entry))
            {
                // The adopter, between publishing the session and resuming it, until the second resume has had its go.
                adoptionHeld.Wait(Bounded.DefaultTimeout);
            }
        };

        try
        {
            using RawPeer first = await StartResumeAsync(server, received: 5);
            long adopterId = ConnectionIdIn((await adopted.Task.Within()).Message);
            Task<IMessage?> firstCut = first.ReceiveAsync();

            using RawPeer second = await StartResumeAsync(server, received: 5);

            // Without the gate held, the second takes the session and cuts the adopter at once; with it, it says it waits.
            Task waits = server.Log.WaitForAsync(e => e.EventId.Id == 45);
            await Task.WhenAny(waits, firstCut).Within();
            adoptionHeld.Set();

            Assert.Equal(new Resumed(Token, 3), await second.ReceiveAsync());
            Assert.IsType<LoginAccepted>(await second.ReceiveAsync());
            Assert.Equal(new JoinRefused(6, "six"), await second.ReceiveAsync());

            // Logged once the second has taken over (after its answers went out), and the adopter was never refused.
            await server.Log.WaitForAsync(e => e.EventId.Id == 25 && e.Message.Contains($"(connection #{adopterId})", StringComparison.Ordinal));
            Assert.DoesNotContain(server.Log.Entries, e => e.EventId.Id == 27);
            Assert.Equal(0, Volatile.Read(ref receiver.Ends));
        }
        finally
        {
            adoptionHeld.Set();
        }
    }

    [Fact]
    public async Task AClientThatHandledMoreThanTheFramesHandedOverIsRefusedAndTheUserLeaves()
    {
        await using TestServer server = await ResumeExchange.StartServerAsync(new ResumeRoom());
        var receiver = new Receiver();
        server.Server.ResumeElsewhere = (session, user, token) =>
            ValueTask.FromResult(new SessionElsewhere(receiver, 0, 5, RawPeer.Frame(new JoinRefused(6, "six")), null));

        using RawPeer peer = await StartResumeAsync(server, received: 9);
        IMessage? answer = await peer.ReceiveAsync();

        Assert.Equal("resume refused: the client says it handled 9 messages; the session can replay from 5 to 6", Assert.IsType<LoginRejected>(answer).Reason);
        await receiver.Ended.Within();
        Assert.Equal(1, Volatile.Read(ref receiver.Ends));
    }

    private static async Task<RawPeer> StartResumeAsync(TestServer server, long received)
    {
        RawPeer peer = server.CreateRawPeer();
        await SessionEndTests.SendResumeAsync(peer, "user1", Token, received);
        return peer;
    }

    private static long ConnectionIdIn(string message) =>
        long.Parse(System.Text.RegularExpressions.Regex.Match(message, "#([0-9]+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>What receives an adopted session's messages: here, nothing but counts.</summary>
    private sealed class Receiver : ISessionReceiver
    {
        public int Ends;

        private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes when the session first ends.</summary>
        public Task Ended => _ended.Task;

        public ValueTask EnterAsync() => ValueTask.CompletedTask;

        public ValueTask ReceiveAsync(List<IMessage> messages, int start, int end) => ValueTask.CompletedTask;

        public ValueTask EndAsync()
        {
            Interlocked.Increment(ref Ends);
            _ended.TrySetResult();
            return ValueTask.CompletedTask;
        }
    }
}
