using System.Buffers;
using Microsoft.Extensions.Logging;
using Wevis.Protocol;
using Wevis.Sessions;
using Wevis.Transport;

namespace Wevis.Orleans;

/// <summary>
/// One logged-in user on a gateway: which room (grain) they are in, the forwarding of their messages to it as
/// frames, their room requests (join, join-or-create, create, leave), and the moves room code makes. Everything for
/// one user happens one thing at a time (the user's gate), as on a single server, so their messages reach rooms in
/// order and none is handed to the room they are leaving after the move.
/// </summary>
/// <remarks>
/// A run of the user's messages returns to the session (which counts them as received, the count its <c>_Ack</c>
/// reports to a resumable client) only once their room has handled them. A room whose node dies meanwhile is called
/// again until it is back on a live node (<see cref="RoomCalls.CallPatientlyAsync{T}"/>), so the messages wait here,
/// in order, unacknowledged. A resumable session's drop and resume reach the room's hooks through its grain; after a
/// resume the user is the same (same <see cref="Key"/>, same place in the rooms) on a new connection.
/// </remarks>
internal sealed class GatewayUser(ServerSession first, WevisGateway gateway) : ISessionReceiver
{
    private const string Lobby = RoomDirectory.EntryRoomName;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ArrayBufferWriter<byte> _frames = new();
    private readonly List<int> _starts = [];
    private readonly Lock _adoptLock = new();
    private ServerSession _session = first;
    private ClusterUser _user = null!;

    /// <summary>How many of the client's sequenced messages were handled (room requests too): the next one's number.</summary>
    private long _handled;
    private string? _room;
    private string? _type;
    private bool _ended;
    private bool _handedOver;
    private long _ackForwarded;

    /// <summary>The number of the user's last entry into a room (<see cref="EnterPatientlyAsync"/>), under the gate.</summary>
    private long _entries;
    private long _sentSinceAcknowledgeSoon; // by the one thread delivering to this gateway at a time

    /// <summary>While a session taken over from another gateway is being set up: frames rooms send meanwhile wait here.</summary>
    private List<byte[]>? _adopting;

    /// <summary>Whether the user is being taken over and the room's answer has not come yet (under <see cref="_adoptLock"/>).</summary>
    private bool _awaitingAdoption;

    /// <summary>A move room code made before the takeover's answer came (in the resume hook, say), applied once it has.</summary>
    private ClusterMove? _moveWhileAdopting;

    /// <summary>The connection carrying the user's session now: another one after a resume.</summary>
    public ServerSession Session => Volatile.Read(ref _session);

    /// <summary>Names the user to rooms for the whole session, across resumes: the first connection's number.</summary>
    public long Key { get; } = first.Id;

    private NodeRooms Node => gateway.Node;

    /// <summary>The user's room, for forwarding the client's acknowledgements (read off the user's gate: may trail a move).</summary>
    public string? Room => Volatile.Read(ref _room);

    /// <summary>
    /// A session being taken over from another gateway, as <paramref name="user"/> on <paramref name="session"/>:
    /// frames rooms send it wait until <see cref="ISessionReceiver.ResumedAsync"/>, when the session's replay log
    /// holds what came before.
    /// </summary>
    public static GatewayUser Adopting(ServerSession session, WevisGateway gateway, ClusterUser user)
    {
        return new GatewayUser(session, gateway) { _user = user, _adopting = [], _awaitingAdoption = true };
    }

    /// <summary>The takeover went through: the user is in <paramref name="room"/>, with <paramref name="handled"/> messages handled, as <paramref name="user"/> (the holding the room gave).</summary>
    public void Adopted(string room, string type, long handled, ClusterUser user)
    {
        ClusterMove? early;
        lock (_adoptLock)
        {
            (_room, _type, _handled, _user) = (room, type, handled, user);
            _ackForwarded = 0;
            _awaitingAdoption = false;
            early = _moveWhileAdopting;
            _moveWhileAdopting = null;
        }

        if (early is not null)
        {
            // Heard before the user was in a room here. Followed now: the room's own record of the move may be gone
            // (an emptied room is disposed), and a delivery there would find the user nowhere and enter them again.
            QueueMove(early);
        }
    }

    /// <summary>A frame a room sent the user: to the session's transport (and replay log), or held while the session is being taken over.</summary>
    public void SendFrame(ReadOnlySpan<byte> frame)
    {
        if (Volatile.Read(ref _adopting) is not null)
        {
            lock (_adoptLock)
            {
                if (_adopting is { } waiting)
                {
                    waiting.Add(frame.ToArray());
                    return;
                }
            }
        }

        Session.Transport.TrySendFrame(frame);
        if (_user?.ResumeKey is not null && (_sentSinceAcknowledgeSoon += frame.Length) >= WevisGateway.AcknowledgeSoonBytes)
        {
            // The room holds these frames for a resume elsewhere until it hears the client has them: tell it soon.
            _sentSinceAcknowledgeSoon = 0;
            gateway.AcknowledgeSoon();
        }
    }

    /// <summary>
    /// The client's acknowledgement to forward to the user's room, if it moved since the last time: the session's
    /// key on this gateway and the count. False if there is nothing new (or the session is not resumable).
    /// </summary>
    public bool TakeAcknowledgement(out long received)
    {
        received = 0;
        if (_user?.ResumeKey is null || Session.Resumable is not { } resumable || Volatile.Read(ref _ended))
        {
            return false;
        }

        received = resumable.Outgoing.Acknowledged;
        if (received <= Volatile.Read(ref _ackForwarded))
        {
            return false;
        }

        Volatile.Write(ref _ackForwarded, received);
        return true;
    }

    /// <summary>
    /// Under the user's gate: the session is another gateway's now. It ends here without a leave (the user stays in
    /// their room) and without telling the session's record (the other gateway holds it).
    /// </summary>
    private void LetGo(string reason)
    {
        _ended = true;
        _handedOver = true;
        gateway.Remove(this);
        Session.HandOff(reason);
    }

    /// <summary>
    /// Another gateway is resuming the user's session: once the delivery under way (if any) is done, this one lets it
    /// go quietly: no leave (the user stays in their room, now held by the other gateway), the connection is cut.
    /// </summary>
    public async Task HandOverAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            LetGo("the session was resumed at another gateway");
        }
        finally
        {
            _gate.Release();
        }
    }

    async ValueTask ISessionReceiver.EnterAsync()
    {
        string? resumeKey = Session.Resumable is { } resumable ? SessionKeys.Key(resumable.Token) : null;
        _user = new ClusterUser(gateway.Id, Key, Session.User!.Name, gateway.Observer, Session.Resumable is not null, resumeKey);
        gateway.Add(this);
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            string? refusal = await EnterPatientlyAsync(Lobby, Lobby, 0, string.Empty, seatHeld: false, force: false).ConfigureAwait(false);
            if (refusal is null)
            {
                (_room, _type) = (Lobby, Lobby);
                if (resumeKey is not null)
                {
                    await RecordAsync(grain => grain.Register(SessionKeys.Verifier(Session.Resumable!.Token), _user, Lobby, Lobby)).ConfigureAwait(false);
                }
            }
            else
            {
                Session.Close(refusal);
            }
        }
        catch (Exception ex)
        {
            Fail(ex);
        }
        finally
        {
            _gate.Release();
        }
    }

    ValueTask ISessionReceiver.DroppedAsync() => new(TellRoomAsync(resumed: false));

    ValueTask ISessionReceiver.ResumedAsync(ServerSession resumed, bool wasDropped)
    {
        // What rooms send from here on goes to the new connection (what is under way reaches it through the replay log).
        Volatile.Write(ref _session, resumed);
        if (Volatile.Read(ref _adopting) is not null)
        {
            // Taken over from another gateway: the replay log now holds what the room had kept; what it sent since follows.
            lock (_adoptLock)
            {
                foreach (byte[] frame in _adopting!)
                {
                    resumed.Transport.TrySendFrame(frame);
                }

                Volatile.Write(ref _adopting, null);
            }
        }

        return wasDropped ? new(TellRoomAsync(resumed: true)) : ValueTask.CompletedTask;
    }

    async ValueTask ISessionReceiver.ReceiveAsync(List<IMessage> messages, int start, int end)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            for (int i = start; i < end; i++)
            {
                IMessage message = messages[i];
                if (message.Descriptor.IsProtocolMessage)
                {
                    await ForwardAsync().ConfigureAwait(false);

                    // Counted as the session counts it, so a room's count of handled messages is the session's.
                    _handled++;
                    await HandleRequestAsync(message).ConfigureAwait(false);
                    continue;
                }

                // The session decoded the frame to check it; the room's node decodes it again from these bytes.
                _starts.Add(_frames.WrittenCount);
                FrameBuffer frame = FrameBuffer.Encode(message is IncomingRequest request ? new ForwardedRequest(request) : message);
                _frames.Write(frame.Frame);
                FrameBuffer.Return(frame);
            }

            await ForwardAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Fail(ex);
        }
        finally
        {
            _frames.ResetWrittenCount();
            _starts.Clear();
            _gate.Release();
        }
    }

    async ValueTask ISessionReceiver.EndAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            bool handedOver = _handedOver;
            _ended = true;
            if (_room is { } room && !gateway.IsCrashed && !handedOver)
            {
                _room = null;
                try
                {
                    // Made again as a delivery is (a second leave finds the user gone), so a lost answer does not leave them in the room.
                    await RoomCalls.CallPatientlyAsync(() => Node.Room(room).Leave(_user), gateway.RoomPatience, gateway.Time).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    // The session's record still ends below: a failed leave must not keep it (and its grain) for good.
                    OrleansLog.ClusterCallFailed(Node.Logger, ex, _user.Name);
                }
            }

            if (_user?.ResumeKey is not null && !gateway.IsCrashed && !handedOver)
            {
                await RecordAsync(grain => grain.End(_user.GatewayId, _user.Session, null)).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            OrleansLog.ClusterCallFailed(Node.Logger, ex, _user.Name);
        }
        finally
        {
            gateway.Remove(this);
            _gate.Release();
        }
    }

    /// <summary>Room code moved the user (the record came from the room they left): take them to the target.</summary>
    public void QueueMove(ClusterMove move) => _ = ApplyMoveOnGateAsync(move);

    /// <summary>A node died: if the user's room was on it, enter them again into the room, restarted elsewhere.</summary>
    public async Task RecheckAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!_ended && _room is { } room)
            {
                // Patiently, as a delivery is: the dead node may be another than the room's, and a call slowed by the
                // cluster's change must not cost the user their session.
                DeliverResult result = await RoomCalls.CallPatientlyAsync(() => Node.Room(room).Deliver(_user, _type!, [], _handled), gateway.RoomPatience, gateway.Time).ConfigureAwait(false);
                if (result.Ended is { } ended)
                {
                    EndedByRoom(ended);
                    return;
                }

                if (result.NotHere)
                {
                    await ReenterAsync().ConfigureAwait(false);
                }
                else if (result.Move is { } move)
                {
                    await ApplyMoveAsync(move).ConfigureAwait(false);
                }

                if (_user.ResumeKey is not null && Node.StateStore is null && !_ended && _room is { } now && !gateway.IsCrashed)
                {
                    // Without a state store the session's record may have died with that node: recorded again (a
                    // record that lives is only written over with what it holds), so this gateway's death stays survivable.
                    await RecordAsync(grain => grain.Register(SessionKeys.Verifier(Session.Resumable!.Token), _user, now, _type!)).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (!_ended && _room is not null)
        {
            // Only the check failed: the user is still in their room, and their next delivery (made as patiently)
            // finds out whether it is reachable. Closing here would end sessions over a node they did not use.
            OrleansLog.RoomCheckFailed(Node.Logger, ex, _user.Name, _room);
        }
        catch (Exception ex)
        {
            // A move or a re-entry failed part way: the user is in no room, and their messages would go nowhere.
            Fail(ex);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task ApplyMoveOnGateAsync(ClusterMove move)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!_ended)
            {
                await ApplyMoveAsync(move).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            Fail(ex);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Sends the frames gathered so far to the user's room, following the moves room code makes meanwhile.</summary>
    private async Task ForwardAsync()
    {
        int next = 0;
        int reentries = 0;
        while (next < _starts.Count && _room is { } room && !_ended)
        {
            byte[] frames = _frames.WrittenSpan[_starts[next]..].ToArray();
            long first = _handled;
            DeliverResult result = await RoomCalls.CallPatientlyAsync(() => Node.Room(room).Deliver(_user, _type!, frames, first), gateway.RoomPatience, gateway.Time).ConfigureAwait(false);
            if (result.Ended is { } ended)
            {
                EndedByRoom(ended);
                break;
            }

            if (result.NotHere)
            {
                if (++reentries > 2 || !await ReenterAsync().ConfigureAwait(false))
                {
                    break;
                }

                continue;
            }

            next += result.Handled;
            _handled += result.Handled;
            if (result.Move is { } move)
            {
                await ApplyMoveAsync(move).ConfigureAwait(false);
            }
            else if (next < _starts.Count)
            {
                // The room closed the user's connection: the rest goes nowhere.
                break;
            }
        }

        _frames.ResetWrittenCount();
        _starts.Clear();
    }

    /// <summary>
    /// The room ended the user's stay while this gateway did not take its calls (what it sent them meanwhile was
    /// dropped): the session closes with the room's reason, as a single server closes a peer that fell behind, rather
    /// than the user entering again with a gap in what they heard.
    /// </summary>
    private void EndedByRoom(string reason)
    {
        OrleansLog.StayEndedByRoom(Node.Logger, _user.Name, _room!, reason);
        Session.Close(reason);
    }

    /// <summary>The user's room was restarted on another node and does not know them: they enter it again.</summary>
    private async Task<bool> ReenterAsync()
    {
        OrleansLog.UserReentered(Node.Logger, _user.Name, _room!);
        string? refusal = await EnterPatientlyAsync(_room!, _type!, 0, "the room was restarted on another node", seatHeld: false, force: true).ConfigureAwait(false);
        if (refusal is null)
        {
            return true;
        }

        if (refusal == RoomGrain.TakenOverRefusal)
        {
            // Resumed at another gateway while this one still looked alive: it is that gateway's now.
            _room = null;
            LetGo(refusal);
            return false;
        }

        _room = null;
        await EnterWithFallbackAsync(null, null, Lobby, Lobby, 0, refusal, seatHeld: false).ConfigureAwait(false);
        return false;
    }

    /// <summary>Applies a move room code made, once (the move may be heard twice: from the room's records and from a delivery's answer).</summary>
    private async Task ApplyMoveAsync(ClusterMove move)
    {
        lock (_adoptLock)
        {
            // Checked before the room, under the lock Adopted takes: a takeover's answer coming in between must not
            // leave the move neither kept nor followed.
            if (_awaitingAdoption)
            {
                _moveWhileAdopting = move;
                return;
            }
        }

        if (_room != move.From)
        {
            return;
        }

        string? fromType = _type;
        _room = null;
        _ = Node.Room(move.From).MoveSeen(_user);
        await EnterWithFallbackAsync(move.From, fromType, move.Target, move.TargetType, 0, move.Reason, seatHeld: true).ConfigureAwait(false);
    }

    /// <summary>A room request from the client; the caller holds the gate.</summary>
    private async Task HandleRequestAsync(IMessage message)
    {
        int request;
        string? target = null;
        string? type = null;
        string? refusal = null;
        switch (message)
        {
            case JoinOrCreateRoom joinOrCreate:
                request = joinOrCreate.Request;
                type = joinOrCreate.Type;
                if (!Node.TryGetType(type, out RoomTypeOptions options))
                {
                    refusal = $"there is no room type '{type}'";
                }
                else if (!options.ClientsMayJoin)
                {
                    refusal = $"clients may not join rooms of type '{type}'";
                }
                else
                {
                    SeatAnswer answer = await Node.Grains.GetGrain<IRoomTypeGrain>(type).JoinOrCreate(options.ClientsMayCreate, _user.SeatHolder).ConfigureAwait(false);
                    (target, refusal) = (answer.RoomId, answer.Refusal);
                }

                break;
            case CreateRoom create:
                request = create.Request;
                type = create.Type;
                if (!Node.TryGetType(type, out options))
                {
                    refusal = $"there is no room type '{type}'";
                }
                else if (!options.ClientsMayCreate)
                {
                    refusal = $"clients may not create rooms of type '{type}'";
                }
                else
                {
                    SeatAnswer answer = await Node.Grains.GetGrain<IRoomTypeGrain>(type).Create(_user.SeatHolder).ConfigureAwait(false);
                    (target, refusal) = (answer.RoomId, answer.Refusal);
                }

                break;
            case JoinRoom join:
                request = join.Request;
                type = Node.TypeOfId(join.Room);
                if (type is null)
                {
                    refusal = $"there is no room '{join.Room}'";
                }
                else if (type != Lobby && (!Node.TryGetType(type, out options) || !options.ClientsMayJoin))
                {
                    refusal = $"clients may not join rooms of type '{type}'";
                }
                else
                {
                    refusal = await Node.Room(join.Room).HoldSeat(type, force: type == Lobby, create: type == Lobby, _user.SeatHolder).ConfigureAwait(false);
                    target = refusal is null ? join.Room : null;
                }

                break;
            case LeaveRoom leave:
                request = leave.Request;
                type = Lobby;
                if (_room == Lobby)
                {
                    refusal = "you are in the entry room already";
                }
                else
                {
                    refusal = await Node.Room(Lobby).HoldSeat(Lobby, force: true, create: true, _user.SeatHolder).ConfigureAwait(false);
                    target = refusal is null ? Lobby : null;
                }

                break;
            default:
                Session.CloseForViolation($"sent the protocol message {message.Descriptor.Name} after logging in");
                return;
        }

        if (target is null)
        {
            await RefuseAsync(request, refusal!).ConfigureAwait(false);
            return;
        }

        if (target == _room)
        {
            await Node.Room(target).ReleaseSeat(type!, _user.SeatHolder).ConfigureAwait(false);
            await RefuseAsync(request, $"already in room {target}").ConfigureAwait(false);
            return;
        }

        (string? from, string? fromType) = (_room, _type);
        if (from is not null)
        {
            _room = null;
            try
            {
                // Made again as an entry is (the room answers a repeat once the first leave is done), so a lost answer
                // neither costs the session nor sends the user on while the room may still have them.
                await RoomCalls.CallPatientlyAsync(() => Node.Room(from).Leave(_user), gateway.RoomPatience, gateway.Time).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // The room could not be reached past the gateway's patience, or failed: the user stays where they were,
                // as after any refused move (if the leave did run, their next delivery finds them gone and enters them
                // again), and the target's seat goes back.
                OrleansLog.ClusterCallFailed(Node.Logger, ex, _user.Name);
                (_room, _type) = (from, fromType);
                await GiveBackSeatAsync(target, type!).ConfigureAwait(false);
                await RefuseAsync(request, $"room {from} could not be left: the cluster did not answer").ConfigureAwait(false);
                return;
            }
        }

        refusal = await EnterWithFallbackAsync(from, fromType, target, type!, request, string.Empty, seatHeld: true).ConfigureAwait(false);
        if (refusal is not null)
        {
            await RefuseAsync(request, refusal).ConfigureAwait(false);
        }
    }

    /// <summary>Gives back the seat held for the user in <paramref name="room"/>, who will not come; if that fails, the room gives it back itself.</summary>
    private async Task GiveBackSeatAsync(string room, string type)
    {
        try
        {
            await RoomCalls.CallAsync(() => Node.Room(room).ReleaseSeat(type, _user.SeatHolder), gateway.Time).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // After SeatReservationTimeout.
            OrleansLog.ClusterCallFailed(Node.Logger, ex, _user.Name);
        }
    }

    /// <summary>
    /// Tells the client its room request was refused. For a resumable session through the user's room, so the
    /// notice is numbered and kept with the room's frames (a session resumed at another gateway replays it); directly
    /// otherwise, or when the user is in no room (their connection is closing then).
    /// </summary>
    private async Task RefuseAsync(int request, string reason)
    {
        if (_user.ResumeKey is null || _room is not { } room)
        {
            Session.Transport.TrySend(new JoinRefused(request, reason));
            return;
        }

        FrameBuffer frame = FrameBuffer.Encode(new JoinRefused(request, reason));
        byte[] bytes = frame.Frame.ToArray();
        FrameBuffer.Return(frame);
        await RoomCalls.CallAsync(() => Node.Room(room).SendToUser(_user, bytes, _handled), gateway.Time).ConfigureAwait(false);
    }

    /// <summary>What the client has had and may not have acknowledged, for the room the user enters to keep; null for sessions the cluster does not resume.</summary>
    private SentFrames? Sent()
    {
        if (_user.ResumeKey is null || Session.Resumable is not { } resumable)
        {
            return null;
        }

        // Nothing is sent to the user between rooms, so the log is still while it is copied.
        byte[]? frames = resumable.Outgoing.CopyUnacknowledged(out long acknowledged);
        return new SentFrames(acknowledged, frames);
    }

    /// <summary>Tells the session's grain something (login, room change, end); a failure costs only a resume elsewhere.</summary>
    private async Task RecordAsync(Func<ISessionGrain, Task> call)
    {
        try
        {
            await RoomCalls.CallAsync(() => call(Node.Grains.GetGrain<ISessionGrain>(_user.ResumeKey!)), gateway.Time).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            OrleansLog.SessionRecordFailed(Node.Logger, ex, _user.Name);
        }
    }

    /// <summary>The user is now in <paramref name="room"/>: their session's grain is told (resumable sessions only).</summary>
    private Task EnteredAsync(string room, string type)
    {
        (_room, _type) = (room, type);
        return _user.ResumeKey is null ? Task.CompletedTask : RecordAsync(grain => grain.Moved(room, type, _user));
    }

    /// <summary>
    /// Enters the user, who is in no room, into <paramref name="target"/>; if it refuses them, back into the room they
    /// came from, else the entry room, else their connection is closed. Returns null, or the target's refusal. An entry
    /// the cluster could not make (<see cref="TryEnterAsync"/>) counts as a refusal, as a full or closed room does.
    /// </summary>
    private async Task<string?> EnterWithFallbackAsync(string? from, string? fromType, string target, string type, int request, string reason, bool seatHeld)
    {
        string? refusal = await TryEnterAsync(target, type, request, reason, seatHeld, force: false).ConfigureAwait(false);
        if (refusal is null)
        {
            await EnteredAsync(target, type).ConfigureAwait(false);
            return null;
        }

        if (from is not null && await TryEnterAsync(from, fromType!, 0, refusal, seatHeld: false, force: true).ConfigureAwait(false) is null)
        {
            (_room, _type) = (from, fromType);
            return refusal;
        }

        if (from != Lobby && target != Lobby && await TryEnterAsync(Lobby, Lobby, 0, refusal, seatHeld: false, force: true).ConfigureAwait(false) is null)
        {
            await EnteredAsync(Lobby, Lobby).ConfigureAwait(false);
            return refusal;
        }

        Session.Close("could not enter any room: " + refusal);
        return refusal;
    }

    /// <summary>
    /// <see cref="EnterPatientlyAsync"/>, with a call that fails all the same (the room unreachable past the gateway's
    /// patience, a fault) taken as a refusal: the user goes back where they were with the reason, as after a refused
    /// move, rather than losing their session. The call may have let them in (its answers lost), so the room is told
    /// they leave, and the seat held for them goes back; both only as far as the room can be reached.
    /// </summary>
    private async Task<string?> TryEnterAsync(string room, string type, int request, string reason, bool seatHeld, bool force)
    {
        try
        {
            return await EnterPatientlyAsync(room, type, request, reason, seatHeld, force).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            OrleansLog.ClusterCallFailed(Node.Logger, ex, _user.Name);
            try
            {
                await RoomCalls.CallAsync(() => Node.Room(room).Leave(_user), gateway.Time).ConfigureAwait(false);
            }
            catch (Exception leaveFailed)
            {
                // Not reachable either: a room that did let the user in keeps them until that room's node is replaced.
                OrleansLog.ClusterCallFailed(Node.Logger, leaveFailed, _user.Name);
            }

            if (seatHeld)
            {
                await GiveBackSeatAsync(room, type).ConfigureAwait(false);
            }

            return $"room {room} could not be entered: the cluster did not answer";
        }
    }

    /// <summary>
    /// Enters the user into <paramref name="room"/>; null, or the room's refusal. Made again after a timeout, as a
    /// delivery is: a call whose answer was lost may have let the user in, and the room answers its repeat as it
    /// answered the first (<see cref="RoomGrain.Enter"/>), so a lost answer neither costs the session nor leaves the
    /// user in two rooms.
    /// </summary>
    private Task<string?> EnterPatientlyAsync(string room, string type, int request, string reason, bool seatHeld, bool force)
    {
        // One number per entry, the same for each time its call is made: the room tells a repeat from a later entry by it.
        long entry = ++_entries;
        return RoomCalls.CallPatientlyAsync(() => Node.Room(room).Enter(_user, type, request, reason, seatHeld, force, _handled, Sent(), entry), gateway.RoomPatience, gateway.Time);
    }

    /// <summary>Tells the user's room that their connection was lost, or is back (its drop or resume hook runs).</summary>
    private async Task TellRoomAsync(bool resumed)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!_ended && _room is { } room && !gateway.IsCrashed)
            {
                await RoomCalls.CallAsync(() => Node.Room(room).DroppedOrResumed(_user, resumed), gateway.Time).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            // The session goes on: only the room's hook missed it (its node is dying; the user is entered again there).
            OrleansLog.DropNotTold(Node.Logger, ex, _user.Name, _room ?? string.Empty, resumed);
        }
        finally
        {
            _gate.Release();
        }
    }

    private void Fail(Exception ex)
    {
        OrleansLog.ClusterCallFailed(Node.Logger, ex, _user?.Name ?? Session.UserName);
        Session.Close("the cluster could not handle your messages");
    }
}
