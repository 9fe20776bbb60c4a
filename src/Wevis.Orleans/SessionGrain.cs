using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Wevis.Orleans;

/// <summary>
/// A resumable session's record on the cluster (see <see cref="ISessionGrain"/>): what a gateway needs to resume it
/// after the gateway that held it died. It holds no frames and no counts (the user's room keeps what the client has
/// not acknowledged, and how many of the client's messages it handled), so it changes only when the user changes
/// rooms.
/// </summary>
/// <remarks>
/// With a state store (<see cref="WevisClusterOptions.StateStorage"/> or <see cref="WevisClusterOptions.StateStore"/>)
/// the record is saved at each change, so it outlives this grain's silo; without one it lives in memory only, and a
/// session whose grain died with its silo cannot be resumed at another gateway. Kept active while its silo lives:
/// collecting it when idle would lose the record (without a store) or cost a read at the worst moment (a resume).
/// A token no session has (a guess) finds an empty grain, which is let go at once. Placed on a silo other than the
/// gateway that activates it (<see cref="AwayFromCallerPlacement"/>): the record is for when that gateway dies.
/// </remarks>
[AwayFromCallerPlacement]
[CollectionAgeLimit(AlwaysActive = true)]
internal sealed class SessionGrain(NodeRooms node) : Grain, ISessionGrain
{
    /// <summary>How long a session that ended with a reason keeps telling it to resumes that come (in memory only).</summary>
    internal static readonly TimeSpan EndedReasonKept = TimeSpan.FromMinutes(5);

    private SavedSession? _session;
    private IGatewayObserver? _gateway;
    private (SavedSession Session, string Reason)? _ended;
    private IGrainTimer? _letGo;

    private string StoreKey => "wevis-session/" + this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (node.StateStore is not { } store)
        {
            return;
        }

        try
        {
            if (await store.ReadAsync(StoreKey, cancellationToken) is { } bytes)
            {
                _session = JsonSerializer.Deserialize<SavedSession>(bytes);
            }
        }
        catch (Exception ex)
        {
            OrleansLog.SessionRecordFailed(node.Logger, ex, _session?.Name ?? "a user");
        }
    }

    public async Task Register(byte[] verifier, ClusterUser user, string room, string type)
    {
        if (_session is { } existing && IsOf(existing, verifier) && user.Holding < existing.Holding)
        {
            // A gateway re-recording a session it has since lost to a takeover: the record knows a newer holder.
            return;
        }

        // Registered again (a gateway recording its sessions after a node's death): whatever ended before is past.
        _ended = null;
        _letGo?.Dispose();
        _letGo = null;
        _session = new SavedSession(user.Name, Convert.ToBase64String(verifier), room, type, user.GatewayId, user.Session, user.Holding);
        _gateway = user.Gateway;
        await SaveAsync();
    }

    public async Task Moved(string room, string type, ClusterUser by)
    {
        if (_session is { } session && by.Holding >= session.Holding)
        {
            _session = session with { Room = room, Type = type, GatewayId = by.GatewayId, Session = by.Session, Holding = by.Holding };
            _gateway = by.Gateway;
            await SaveAsync();
        }
    }

    public Task<SessionClaim> Claim(byte[] verifier, string userName)
    {
        if (_session is null && _ended is { } ended && IsOf(ended.Session, verifier)
            && string.Equals(ended.Session.Name, userName, StringComparison.Ordinal))
        {
            return Task.FromResult(Refused(ended.Reason));
        }

        if (_session is not { } session || !IsOf(session, verifier))
        {
            // A guessed or expired token: nothing here to keep active.
            if (_session is null && _ended is null)
            {
                DeactivateOnIdle();
            }

            return Task.FromResult(Refused("the resume token is not valid"));
        }

        if (!string.Equals(session.Name, userName, StringComparison.Ordinal))
        {
            return Task.FromResult(Refused("the resume token belongs to another user's session"));
        }

        return Task.FromResult(new SessionClaim(null, session.Room, session.Type, session.GatewayId, session.Session, _gateway, session.Holding));
    }

    public async Task HeldBy(ClusterUser by)
    {
        if (_session is { } session && by.Holding >= session.Holding)
        {
            _session = session with { GatewayId = by.GatewayId, Session = by.Session, Holding = by.Holding };
            _gateway = by.Gateway;
            await SaveAsync();
        }
    }

    public async Task End(string gatewayId, long session, string? reason)
    {
        if (_session is not { } saved || saved.GatewayId != gatewayId || saved.Session != session)
        {
            // Claimed by another gateway since (or never known): not this ending's to forget.
            return;
        }

        _session = null;
        _gateway = null;
        if (reason is null)
        {
            DeactivateOnIdle();
        }
        else
        {
            // Kept a while to tell a late resume why, then let go (the grain is otherwise kept active).
            _ended = (saved, reason);
            _letGo?.Dispose();
            _letGo = this.RegisterGrainTimer(static (grain, _) =>
            {
                grain.DeactivateOnIdle();
                return Task.CompletedTask;
            }, this, new GrainTimerCreationOptions(EndedReasonKept, Timeout.InfiniteTimeSpan));
        }

        if (node.StateStore is { } store)
        {
            try
            {
                await store.ClearAsync(StoreKey);
            }
            catch (Exception ex)
            {
                OrleansLog.SessionRecordFailed(node.Logger, ex, _session?.Name ?? "a user");
            }
        }
    }

    private static SessionClaim Refused(string reason) => new(reason, null, null, null, 0, null);

    /// <summary>Whether <paramref name="verifier"/> is <paramref name="session"/>'s (compared in fixed time).</summary>
    private static bool IsOf(SavedSession session, byte[] verifier) => SessionKeys.Matches(Convert.FromBase64String(session.Verifier), verifier);

    private async Task SaveAsync()
    {
        if (node.StateStore is not { } store || _session is not { } session)
        {
            return;
        }

        try
        {
            await store.WriteAsync(StoreKey, JsonSerializer.SerializeToUtf8Bytes(session));
        }
        catch (Exception ex)
        {
            // The session goes on; only a resume after this grain's silo dies depends on the saved record.
            OrleansLog.SessionRecordFailed(node.Logger, ex, _session?.Name ?? "a user");
        }
    }

    /// <summary>The saved record: the verifier as base64, never the token. A record saved before <paramref name="Holding"/> existed reads as 0.</summary>
    internal sealed record SavedSession(string Name, string Verifier, string? Room, string? Type, string GatewayId, long Session, int Holding = 0);
}
