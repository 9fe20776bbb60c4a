using Wevis.Runtime.Tests.Infrastructure;

namespace Wevis.Runtime.Tests.Resume;

/// <summary>Stopping a client while it reconnects to resume its session.</summary>
public class StopWhileResumingTests
{
    [Fact]
    public async Task AClientDisposedDuringAReconnectAttemptTellsTheServerSoTheUserMayLogInAgainAtOnce()
    {
        // One connection per user, and a server on a fake clock (it never pings out a connection it believes open).
        // The client's connection is reset; it reconnects through a proxy that loses resets, and is disposed while the
        // server checks the resume's login. Before the fix the attempt was cut: the server resumed the session on a
        // connection it took for alive, which kept the user's one place (the new login refused), or, when the cut
        // came with a plain close, took it for lost and held the session for its grace period (no leave). Told (the
        // farewell after the login), the server ends the session at once, and Dispose returns once it has closed.
        var room = new ResumeRoom();
        var serverClock = new TestClock();
        var resumeChecking = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var resumeChecked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int logins = 0;
        AsyncLoginValidator validator = async (username, password, salt, version, cancellationToken) =>
        {
            if (Interlocked.Increment(ref logins) == 2)
            {
                resumeChecking.TrySetResult();
                await resumeChecked.Task.WaitAsync(cancellationToken);
            }

            return TestServer.Validate(username, password, salt, version);
        };
        await using TestServer server = await TestServer.StartAsync(
            o =>
            {
                o.MaxConnectionsPerUser = 1;
                o.MaxFailedLoginsPerAddress = 0;
            },
            room,
            validator,
            serverClock);
        await using var proxy = new FaultProxy(server.Port) { LosesResets = true };
        var clock = new TestClock();
        Client client = ResumeExchange.CreateClient(server, proxy.Port, "user1", configure: o =>
        {
            o.TimeProvider = clock;
            o.ServerTimeout = Timeout.InfiniteTimeSpan;
            o.ReconnectDelay = o.MaxReconnectDelay = TimeSpan.FromSeconds(1);
        });
        await client.ConnectAsync().Within();

        proxy.BreakAll(FaultKind.Reset);
        await clock.WaitForTimersAsync(d => d >= TimeSpan.FromSeconds(0.5) && d <= TimeSpan.FromSeconds(1), 1, "the reconnect delay");
        clock.Advance(TimeSpan.FromSeconds(1));
        await resumeChecking.Task.Within(what: "the server checking the resume's login");

        Task disposing = client.DisposeAsync().AsTask();
        resumeChecked.SetResult();
        await server.Log.WaitForAsync(e => e.Category.StartsWith("Wevis.Server", StringComparison.Ordinal) && e.EventId.Id == 25);
        await disposing.Within(what: "Dispose, once the server has closed");

        await using Client again = server.CreateClient("user1", "pw");
        await again.ConnectAsync().Within(what: "a new login as the same user");
        await room.LeaveOf("user1").Within(what: "the resumed session's leave");
    }
}
