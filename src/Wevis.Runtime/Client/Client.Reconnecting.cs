using Wevis.Protocol;
using Wevis.Sessions;
using Wevis.Transport;

namespace Wevis;

// Resuming a lost session (ClientOptions.ResumeSessions): the reconnecting loop, with backoff and jitter, and one
// attempt of it, which ends in one decision.
public sealed partial class Client
{
    /// <summary>
    /// Reconnects with exponential backoff and jitter until the session resumes, the server refuses (its reason ends
    /// the session), <see cref="ClientOptions.ReconnectTimeout"/> passes, or the client is stopped.
    /// </summary>
    private async Task ReconnectAsync(string lostBecause)
    {
        // Off the receive loop that is ending.
        await Task.Yield();
        TimeProvider time = _options.TimeProvider;
        long started = time.GetTimestamp();
        TimeSpan delay = _options.ReconnectDelay;
        string lastFailure = lostBecause;
        int attempts = 0;
        while (true)
        {
            TimeSpan left = _options.ReconnectTimeout - time.GetElapsedTime(started);
            if (left <= TimeSpan.Zero)
            {
                GiveUp($"could not resume the session within {_options.ReconnectTimeout.TotalSeconds:0.###} s: {lastFailure}", attempts);
                return;
            }

            // Full jitter over the upper half: clients dropped together do not come back together.
            TimeSpan wait = delay * (0.5 + (Random.Shared.NextDouble() / 2));
            try
            {
                await Task.Delay(wait < left ? wait : left, time, _stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                EndSession("the client was stopped");
                return;
            }

            // The attempt gets the connect timeout or what is left of the reconnect timeout, whichever is sooner: an
            // attempt begun just before the end would otherwise push GaveUp up to a whole connect timeout past it.
            TimeSpan remaining = _options.ReconnectTimeout - time.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero)
            {
                continue;
            }

            attempts++;
            var attempt = new ReconnectAttempt(this);

            // An accepted attempt's connection that drops raises Dropped, and starts the next reconnecting task, only
            // once this task has finished (ReceiveLoopAsync): Resumed comes first.
            switch (await attempt.RunAsync(remaining < _options.ConnectTimeout ? remaining : _options.ConnectTimeout).ConfigureAwait(false))
            {
                case ReconnectAttempt.Outcome.Resumed:
                    ClientLog.Resumed(_logger, Host, Port, attempts);
                    Raise(Resumed, new SessionResumeEventArgs(string.Empty, attempts, attempt.ReplayedToServer));
                    return;
                case ReconnectAttempt.Outcome.Refused:
                    GiveUp(attempt.Failure, attempts);
                    return;
                case ReconnectAttempt.Outcome.Stopped:
                    EndSession("the client was stopped");
                    return;
            }

            lastFailure = attempt.Failure;
            ClientLog.ReconnectFailed(_logger, attempts, Host, Port, lastFailure);

            // The next attempt goes to the next server (a cluster's other gateways, say): this one may be gone.
            Volatile.Write(ref _endpoint, (Volatile.Read(ref _endpoint) + 1) % _endpoints.Length);
            delay = delay * 2 < _options.MaxReconnectDelay ? delay * 2 : _options.MaxReconnectDelay;
        }
    }

    private void GiveUp(string reason, int attempts)
    {
        ClientLog.GaveUp(_logger, Host, Port, attempts, reason);
        EndSession(reason);
        Raise(GaveUp, new SessionResumeEventArgs(reason, attempts));
    }

    /// <summary>
    /// One attempt to resume the session on a new connection. It ends in exactly one decision, taken under the
    /// client's <see cref="_lifecycleLock"/> by whichever side comes first, the other going along:
    /// <list type="bullet">
    /// <item><b>accepted</b> (<see cref="TryAccept"/>), by the attempt's receive loop, the moment the server accepts the resume;</item>
    /// <item><b>abandoned</b> (<see cref="TryAbandon"/>), by the reconnecting task, when the attempt failed, its time ran out or the client stopped.</item>
    /// </list>
    /// Both sides looking at the session on their own would let a login accepted between the task's look and its abort
    /// count as a resume on the receive loop (which, seeing a logged-in session cut, reconnects again) while the task
    /// tries again too: two reconnecting tasks for one drop, each ending in Resumed or GaveUp. Stopping the client
    /// during an attempt cancels it: its connection is closed telling the server, once the login was sent (whether
    /// or not the attempt was accepted), else cut (<see cref="StopAsync"/>).
    /// </summary>
    private sealed class ReconnectAttempt(Client client)
    {
        private MessageConnection? _transport;
        private ClientSession? _session;
        private Task _receiveLoop = Task.CompletedTask;
        private Decision _decision; // under client._lifecycleLock

        /// <summary>How an attempt ended.</summary>
        public enum Outcome
        {
            /// <summary>The server accepted the resume.</summary>
            Resumed,

            /// <summary>The server (or this client) refused the resume and said why (<see cref="Failure"/>): trying again cannot help.</summary>
            Refused,

            /// <summary>The attempt failed or ran out of time (<see cref="Failure"/>); the next may succeed.</summary>
            Failed,

            /// <summary>The client was stopped.</summary>
            Stopped,
        }

        private enum Decision
        {
            Undecided,
            Accepted,
            Abandoned,
        }

        /// <summary>Why the attempt did not resume the session, after <see cref="Outcome.Refused"/> or <see cref="Outcome.Failed"/>.</summary>
        public string Failure { get; private set; } = string.Empty;

        /// <summary>After <see cref="Outcome.Resumed"/>: how many of the client's messages the server had not handled.</summary>
        public long ReplayedToServer => _session?.ReplayedToServer ?? 0;

        /// <summary>Connects and waits for the login, for at most <paramref name="limit"/>; the attempt is decided when it returns.</summary>
        public async Task<Outcome> RunAsync(TimeSpan limit)
        {
            using var timeout = new CancellationTokenSource(limit, client._options.TimeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(client._stopping.Token, timeout.Token);
            try
            {
                ClientSession session = await OpenAsync(linked.Token).ConfigureAwait(false);
                try
                {
                    await session.LoggedIn.WaitAsync(linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!client._stopping.IsCancellationRequested)
                {
                    if (TryAbandon())
                    {
                        throw;
                    }

                    // The attempt's time ran out as the login was accepted: the resume went through (and was counted).
                }

                return Outcome.Resumed;
            }
            catch (LoginRejectedException ex)
            {
                TryAbandon();
                Failure = ex.Reason;
                return Outcome.Refused;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !client._stopping.IsCancellationRequested)
            {
                // Before the abort: a login accepted from here on is refused (TryAccept), so its receive loop ends
                // without reconnecting. Only a timeout can race an acceptance, and it was decided above.
                TryAbandon();
                Failure = ex is OperationCanceledException && timeout.IsCancellationRequested
                    ? $"the attempt did not finish within {limit.TotalSeconds:0.###} s"
                    : ex.Message;
                _transport?.Abort(ex.Message);
                return Outcome.Failed;
            }
            catch (OperationCanceledException)
            {
                await StopAsync().ConfigureAwait(false);
                return Outcome.Stopped;
            }
        }

        /// <summary>
        /// The client is stopping during this attempt. Once the login is sent the server may accept the resume (or
        /// have accepted it, its answer on the way); a cut would look to it like a lost connection, and it would hold
        /// the session for its grace period. So the connection is closed with the farewell, which the server reads
        /// after the login whatever its answer, and the client waits for the server to close its side (at most
        /// <see cref="PeerCloseTimeout"/>), as stopping does: a new login as the same user works at once. Closed before
        /// the decision: an acceptance arriving from here on finds the connection closing, so it is never cut without
        /// the farewell. Before the login is sent, the server holds nothing for the connection: it is cut, and the login
        /// is withheld in the same atomic step as the look (<see cref="ClientSession.WithholdLogin"/>), so a welcome
        /// answered at that instant cannot send it just before the cut.
        /// </summary>
        private async Task StopAsync()
        {
            const string Reason = "the client was stopped";
            if (_transport is { } transport && _session is { } session && session.WithholdLogin())
            {
                transport.Close(Reason, new Closing(Reason));
                TryAbandon();
                await client.CloseAndWaitAsync(transport, _receiveLoop, Reason).ConfigureAwait(false);
                return;
            }

            TryAbandon();
            _transport?.Abort(Reason);
        }

        /// <summary>Opens the connection and starts its receive loop, which brings the server's acceptance to <see cref="TryAccept"/>.</summary>
        private async Task<ClientSession> OpenAsync(CancellationToken cancellationToken)
        {
            (_transport, _session) = await client.OpenAsync(cancellationToken).ConfigureAwait(false);
            _session.OnLoggedIn = TryAccept;

            // The loop starts once this attempt knows it, so that TryAccept can make it the client's.
            var published = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _receiveLoop = client.ReceiveLoopAsync(_transport, _session, reconnecting: true, published.Task);
            published.SetResult();
            return _session;
        }

        /// <summary>
        /// On the receive loop, the moment the server accepts the resume (<see cref="ClientSession.OnLoggedIn"/>): the
        /// attempt is accepted, unless it was abandoned an instant before (false: the session then ends as a failed
        /// login). The connection is made current here, before the messages the server replays are handed up: what
        /// checks them, and the code that reads them (a protocol violation closing the connection, a blocking receive
        /// or Stop on the loop, a reply), must act on this connection, not on the one that dropped. Counted here too:
        /// code that reads them may read the count.
        /// </summary>
        private bool TryAccept()
        {
            lock (client._lifecycleLock)
            {
                if (_decision == Decision.Abandoned)
                {
                    return false;
                }

                _decision = Decision.Accepted;
                client.ResumeCount++;

                // A connection that broke right after the handshake has started the next resume already; sends
                // through the older one reach the newest through the replay log, so it is not made current.
                if (!_transport!.IsClosing)
                {
                    Volatile.Write(ref client._current, new CurrentConnection(_transport, _session!));
                    client._receiveLoop = _receiveLoop;
                }

                return true;
            }
        }

        /// <summary>The attempt is over without its login: true unless the receive loop accepted it first.</summary>
        private bool TryAbandon()
        {
            lock (client._lifecycleLock)
            {
                if (_decision == Decision.Undecided)
                {
                    _decision = Decision.Abandoned;
                }

                return _decision == Decision.Abandoned;
            }
        }
    }
}
