using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging;
using Wevis.Diagnostics;
using Wevis.Protocol;

namespace Wevis.Sessions;

/// <summary>
/// The server's side of a login, decided in one place: the definitions' fingerprint, the failed-login throttle,
/// the validator (with the login timeout), a resume's token, and the per-user connection limit, in that order.
/// </summary>
/// <remarks>
/// The per-user limit is checked only after the password, so that a stranger cannot learn who is online. An
/// accepted login holds one of its user's places until <see cref="Release"/>.
/// </remarks>
internal sealed class ServerLogin
{
    private readonly AsyncLoginValidator _validator;
    private readonly string _fingerprint;
    private readonly LoginThrottle _throttle;
    private readonly UserConnectionLimit _users;
    private readonly TimeSpan _timeout;
    private readonly int _maxPerUser;
    private readonly int _maxFailures;
    private readonly TimeSpan _failureWindow;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationToken _stopping;
    private readonly ServerMetrics? _metrics;
    private int _loggedIn;

    public ServerLogin(AsyncLoginValidator validator, string fingerprint, LoginRules rules, TimeProvider time, ILogger logger, CancellationToken stopping, ServerMetrics? metrics = null)
    {
        _metrics = metrics;
        _validator = validator;
        _fingerprint = fingerprint;
        _time = time;
        _throttle = new LoginThrottle(rules.MaxFailedLoginsPerAddress, rules.FailedLoginWindow, time);
        _users = new UserConnectionLimit(rules.MaxConnectionsPerUser);
        _timeout = rules.LoginTimeout;
        _maxPerUser = rules.MaxConnectionsPerUser;
        _maxFailures = rules.MaxFailedLoginsPerAddress;
        _failureWindow = rules.FailedLoginWindow;
        _logger = logger;
        _stopping = stopping;
    }

    /// <summary>How many connections are logged in now.</summary>
    public int LoggedIn => Volatile.Read(ref _loggedIn);

    /// <summary>How many connections a user has open (for tests and diagnostics).</summary>
    public int ConnectionsOf(string name) => _users.CountOf(name);

    /// <summary>
    /// Decides a login; logs the decision. An acceptance holds a place of the user's until <see cref="Release"/>.
    /// For a resume whose user has no place left, <paramref name="makeRoom"/> says whether it may be admitted without
    /// one, because it replaces the connection holding its session's (the per-user limit; the caller then holds no
    /// place until it takes that one, <see cref="TryTakePlace"/>), and <paramref name="checkResume"/>, called once the credentials are accepted while the attempt still
    /// counts for the throttle, says why its token is refused (the login is then rejected with that reason, logged as a
    /// refused resume, and counted as a failed login), or null to go on. <paramref name="connectionLoginTimeout"/> is cancelled when the
    /// connection's own login clock (from its accept) runs out: the connection is closed, and its login is over with it.
    /// </summary>
    public async ValueTask<LoginDecision> DecideAsync(
        long connectionId, EndPoint? remote, Login login, string salt, Func<User, bool>? makeRoom = null, Func<User, string?>? checkResume = null,
        CancellationToken connectionLoginTimeout = default)
    {
        using Activity? activity = ServerMetrics.StartLogin();
        LoginDecision decision = await DecideCoreAsync(connectionId, remote, login, salt, makeRoom, checkResume, connectionLoginTimeout).ConfigureAwait(false);
        _metrics?.LoginDecided(activity, decision.User is not null, decision.ErrorType);
        return decision;
    }

    private async ValueTask<LoginDecision> DecideCoreAsync(
        long connectionId, EndPoint? remote, Login login, string salt, Func<User, bool>? makeRoom, Func<User, string?>? checkResume,
        CancellationToken connectionLoginTimeout)
    {
        IPAddress? address = (remote as IPEndPoint)?.Address;
        if (!string.Equals(login.Fingerprint, _fingerprint, StringComparison.Ordinal))
        {
            return Reject(connectionId, remote, login, "fingerprint_mismatch", DefinitionsMismatch.Reason(login.Fingerprint, _fingerprint));
        }

        LoginResult result;
        string? resumeRefusal = null;
        // The validator is cancelled when the login timeout passes (on the server's clock) or the server stops; and
        // when the connection's own login clock, started at its accept, runs out first (the login was sent late): the
        // connection is closed then, so a login still waiting for the throttle must not go on to take one of its
        // address's attempts, and the validator's answer could no longer reach anyone.
        using (var timeout = new CancellationTokenSource(_timeout, _time))
        using (_stopping.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), timeout))
        using (connectionLoginTimeout.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), timeout))
        {
            // One of the address's attempts is held until the validator's answer is counted, so logins sent at once
            // cannot all reach the validator before their failures count (LoginThrottle).
            try
            {
                if (!await _throttle.TryBeginAsync(address, timeout.Token).ConfigureAwait(false))
                {
                    return Reject(connectionId, remote, login, "throttled", "Too many failed logins from this address; try again later.");
                }
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                return Reject(connectionId, remote, login, "timeout", "The login took too long to check.");
            }

            bool failed = false;
            try
            {
                ValueTask<LoginResult> validating = _validator(login.Username, login.Password, salt, login.Version, timeout.Token);
                result = validating.IsCompleted
                    ? await validating.ConfigureAwait(false)
                    : await WithinTimeoutAsync(validating.AsTask(), timeout.Token).ConfigureAwait(false);
                failed = result.User is null;

                // A resume's token is checked while this attempt still counts, and before the per-user limit (which
                // would refuse without counting while the user is online): a wrong token is a failed login, counted
                // with the attempt, so guesses sent at once cannot get past the throttle while they are checked.
                if (result.User is { } accepted && checkResume?.Invoke(accepted) is { } refusal)
                {
                    failed = true;
                    resumeRefusal = refusal;
                }
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                return Reject(connectionId, remote, login, "timeout", "The login took too long to check.");
            }
            catch (Exception ex)
            {
                SessionLog.ValidatorFailed(_logger, ex, login.Username);
                return Reject(connectionId, remote, login, "validator_failed", "The server could not check the login.");
            }
            finally
            {
                if (_throttle.End(address, failed))
                {
                    SessionLog.AddressThrottled(_logger, address!, _maxFailures, _failureWindow.TotalSeconds);
                }
            }
        }

        if (result.User is not { } user)
        {
            return Reject(connectionId, remote, login, "invalid_credentials", result.RejectionReason ?? LoginValidation.GenericRejection);
        }

        if (resumeRefusal is not null)
        {
            // Logged once, as what it is: a refused resume (event 27), not also as a rejected login (event 21).
            SessionLog.ResumeRefused(_logger, connectionId, remote, user.Name, resumeRefusal);
            return LoginDecision.Reject(resumeRefusal, "resume_refused");
        }

        // Checked only now, after the password, so that a stranger cannot learn who is online. A resume that
        // replaces its session's connection (which still looks alive) is admitted without a place of its own: it
        // takes that connection's only once it has taken the session, so a resume refused before leaves it there.
        bool placeTaken = _users.TryAdd(user.Name);
        if (!placeTaken && !(makeRoom is not null && makeRoom(user)))
        {
            return Reject(connectionId, remote, login, "too_many_connections", $"User {user.Name} already has the most connections allowed ({_maxPerUser}).");
        }

        int loggedIn = placeTaken ? Interlocked.Increment(ref _loggedIn) : LoggedIn;
        SessionLog.LoginAccepted(_logger, connectionId, user.Name, login.Version, loggedIn);
        return LoginDecision.Accept(user);
    }

    /// <summary>
    /// The validator's answer, or <see cref="OperationCanceledException"/> when <paramref name="timeout"/> is
    /// cancelled, even if the validator ignores its token: the connection then ends without it (its place freed, the
    /// server able to stop), and what the validator does later is ignored (a failure is observed, not logged).
    /// </summary>
    private static async Task<LoginResult> WithinTimeoutAsync(Task<LoginResult> validating, CancellationToken timeout)
    {
        try
        {
            return await validating.WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !validating.IsCompleted)
        {
            _ = validating.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw;
        }
    }

    /// <summary>How long a login may take.</summary>
    public TimeSpan Timeout => _timeout;

    /// <summary>Cancelled when the server stops: a login still waiting for something is over.</summary>
    public CancellationToken Stopping => _stopping;

    /// <summary>
    /// A login whose credentials were accepted asked to resume a session it cannot, found only after the decision (a
    /// session ended meanwhile, or one looked for elsewhere; the caller gives its place back): it counts as a failed
    /// login for the throttle, so tokens cannot be guessed for free. A token known wrong at once is counted in the
    /// decision itself (<see cref="DecideAsync"/>'s <c>checkResume</c>).
    /// </summary>
    public void RefuseResume(EndPoint? remote)
    {
        if (_throttle.RecordFailure((remote as IPEndPoint)?.Address))
        {
            SessionLog.AddressThrottled(_logger, (remote as IPEndPoint)!.Address, _maxFailures, _failureWindow.TotalSeconds);
        }
    }

    /// <summary>
    /// Takes a place of <paramref name="user"/>'s for a resume that was admitted without one (it replaces a
    /// connection that has given its own back meanwhile); false, with the refusal, if the user has none left.
    /// </summary>
    public bool TryTakePlace(User user, out string? refusal)
    {
        if (!_users.TryAdd(user.Name))
        {
            refusal = $"User {user.Name} already has the most connections allowed ({_maxPerUser}).";
            return false;
        }

        Interlocked.Increment(ref _loggedIn);
        refusal = null;
        return true;
    }

    /// <summary>Gives back the place an accepted login of <paramref name="user"/> held.</summary>
    public void Release(User user)
    {
        Interlocked.Decrement(ref _loggedIn);
        _users.Remove(user.Name);
    }

    // errorType: the rejection's class, for metrics and traces (invalid_credentials, throttled, …).
    private LoginDecision Reject(long connectionId, EndPoint? remote, Login login, string errorType, string reason)
    {
        SessionLog.LoginRejected(_logger, connectionId, remote, login.Username, reason);
        return LoginDecision.Reject(reason, errorType);
    }
}
