using System.Buffers.Binary;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Wevis.Diagnostics;

/// <summary>
/// One server's instruments (<see cref="WevisDiagnostics.MeterName"/>) and its spans
/// (<see cref="WevisDiagnostics.ActivitySourceName"/>). Any layer may call it; it calls no layer: what it observes
/// (open connections, rooms) it is handed as callbacks by the server.
/// </summary>
/// <remarks>
/// <para>Cost on the hot paths: a message counts only if its instrument has a listener (<see cref="Instrument.Enabled"/>),
/// and then with one tag whose value is the message type's name, a string the descriptor already holds: no
/// allocation. Tag values come only from the server's registry and its room types, so their number is bounded by the
/// definitions, never by what a peer sends.</para>
/// <para>Counts that are states (connections, sessions, queued bytes, rooms) are observed when a listener collects,
/// so they cost nothing between collections.</para>
/// </remarks>
internal sealed class ServerMetrics : IDisposable
{
    /// <summary>The tag that names a message type.</summary>
    public const string MessageTypeTag = "wevis.message.type";

    /// <summary>The tag that names a room type.</summary>
    public const string RoomTypeTag = "wevis.room.type";

    /// <summary>The tag that says how a login ended: <c>accepted</c> or <c>rejected</c>.</summary>
    public const string LoginResultTag = "wevis.login.result";

    /// <summary>The tag that classes a failure (OpenTelemetry's <c>error.type</c>).</summary>
    public const string ErrorTypeTag = "error.type";

    private static readonly ActivitySource s_source = new(WevisDiagnostics.ActivitySourceName, typeof(ServerMetrics).Assembly.GetName().Version?.ToString());
    private static readonly KeyValuePair<string, object?> s_accepted = new(LoginResultTag, "accepted");
    private static readonly KeyValuePair<string, object?> s_rejected = new(LoginResultTag, "rejected");

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly MessageRegistry _registry;
    private readonly Counter<long> _logins;
    private readonly Counter<long> _messagesReceived;
    private readonly Counter<long> _bytesReceived;
    private readonly Counter<long> _messagesSent;
    private readonly Counter<long> _bytesSent;
    private readonly Counter<long> _messagesDropped;
    private readonly Counter<long> _queueOverflows;
    private readonly Histogram<double> _handlerDuration;
    private readonly Histogram<double> _tickDuration;

    /// <param name="meterFactory">Makes the meter (the host's); null: the server makes and owns its own.</param>
    /// <param name="registry">The message types spoken, the protocol's own included: to name the type of an encoded frame.</param>
    /// <param name="observed">The server's states, read when a listener collects.</param>
    public ServerMetrics(IMeterFactory? meterFactory, MessageRegistry registry, IServerObservations observed)
    {
        _registry = registry;
        string? version = typeof(ServerMetrics).Assembly.GetName().Version?.ToString();
        if (meterFactory is not null)
        {
            _meter = meterFactory.Create(new MeterOptions(WevisDiagnostics.MeterName) { Version = version });
        }
        else
        {
            _meter = new Meter(WevisDiagnostics.MeterName, version);
            _ownsMeter = true;
        }

        _meter.CreateObservableUpDownCounter("wevis.server.active_connections", () => (long)observed.OpenConnections, "{connection}",
            "Connections open now: logging in or logged in.");
        _meter.CreateObservableUpDownCounter("wevis.server.active_sessions", () => (long)observed.LoggedInSessions, "{session}",
            "Logged-in sessions now.");
        _meter.CreateObservableUpDownCounter("wevis.server.send_queue.size", () => observed.QueuedBytes, "By",
            "Bytes queued for sending to all connections that the sockets have not taken yet.");
        _meter.CreateObservableGauge("wevis.server.send_queue.max_size", () => observed.MostQueuedBytes, "By",
            "The most bytes queued for sending to one connection.");
        _meter.CreateObservableUpDownCounter("wevis.server.rooms", observed.RoomsByType, "{room}",
            "Rooms now, by room type (the entry room's type is lobby).");
        _logins = _meter.CreateCounter<long>("wevis.server.logins", "{login}",
            "Logins decided, by result (accepted, rejected) and, when rejected, by error.type.");
        _messagesReceived = _meter.CreateCounter<long>("wevis.server.messages.received", "{message}", "Messages received, by message type.");
        _bytesReceived = _meter.CreateCounter<long>("wevis.server.bytes.received", "By", "Bytes of frames received (length prefix included), by message type.");
        _messagesSent = _meter.CreateCounter<long>("wevis.server.messages.sent", "{message}", "Messages queued for sending, by message type; a broadcast counts once per recipient.");
        _bytesSent = _meter.CreateCounter<long>("wevis.server.bytes.sent", "By", "Bytes of frames queued for sending (length prefix included), by message type.");
        _messagesDropped = _meter.CreateCounter<long>("wevis.server.messages.dropped", "{message}",
            "Messages not sent because their connection was closing or its send queue overflowed, by message type.");
        _queueOverflows = _meter.CreateCounter<long>("wevis.server.send_queue.overflows", "{connection}",
            "Connections dropped because more than MaxQueuedBytesPerConnection waited to be sent (the peer was not reading).");
        _handlerDuration = _meter.CreateHistogram("wevis.server.handler.duration", "s",
            "Time a room took to handle one message (HandleAsync, awaits included), by room type and message type.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _tickDuration = _meter.CreateHistogram("wevis.server.room.tick.duration", "s",
            "Time a room's tick took (OnTickAsync), by room type.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
    }

    /// <summary>Bucket bounds for handler and tick durations, in seconds: 10 µs to 10 s.</summary>
    internal static IReadOnlyList<double> DurationBuckets { get; } =
        [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>The meter, for tests that listen to one server's instruments only.</summary>
    internal Meter Meter => _meter;

    /// <summary>Whether anything listens to handler durations or handler spans (so timing a handler is worth it).</summary>
    public bool TimesHandlers => _handlerDuration.Enabled || s_source.HasListeners();

    /// <summary>Whether anything listens to tick durations or tick spans.</summary>
    public bool TimesTicks => _tickDuration.Enabled || s_source.HasListeners();

    /// <summary>Counts one received frame.</summary>
    public void Received(MessageDescriptor descriptor, int frameLength)
    {
        if (_messagesReceived.Enabled)
        {
            _messagesReceived.Add(1, new KeyValuePair<string, object?>(MessageTypeTag, descriptor.Name));
        }

        if (_bytesReceived.Enabled)
        {
            _bytesReceived.Add(frameLength, new KeyValuePair<string, object?>(MessageTypeTag, descriptor.Name));
        }
    }

    /// <summary>Counts one frame queued for sending.</summary>
    public void Sent(MessageDescriptor descriptor, int frameLength)
    {
        if (_messagesSent.Enabled)
        {
            _messagesSent.Add(1, new KeyValuePair<string, object?>(MessageTypeTag, descriptor.Name));
        }

        if (_bytesSent.Enabled)
        {
            _bytesSent.Add(frameLength, new KeyValuePair<string, object?>(MessageTypeTag, descriptor.Name));
        }
    }

    /// <summary>Counts the encoded frames in <paramref name="frames"/> (one or more, prefixes included) as queued for sending.</summary>
    public void SentFrames(ReadOnlySpan<byte> frames)
    {
        if (_messagesSent.Enabled || _bytesSent.Enabled)
        {
            ForEachFrame(frames, static (metrics, descriptor, length) => metrics.Sent(descriptor, length));
        }
    }

    /// <summary>Counts a message that was not sent.</summary>
    public void Dropped(MessageDescriptor descriptor)
    {
        if (_messagesDropped.Enabled)
        {
            _messagesDropped.Add(1, new KeyValuePair<string, object?>(MessageTypeTag, descriptor.Name));
        }
    }

    /// <summary>Counts the encoded frames in <paramref name="frames"/> as not sent.</summary>
    public void DroppedFrames(ReadOnlySpan<byte> frames)
    {
        if (_messagesDropped.Enabled)
        {
            ForEachFrame(frames, static (metrics, descriptor, _) => metrics.Dropped(descriptor));
        }
    }

    /// <summary>Counts a connection dropped because its send queue overflowed.</summary>
    public void QueueOverflowed() => _queueOverflows.Add(1);

    /// <summary>Starts a login's span, if anything listens.</summary>
    public static Activity? StartLogin() => s_source.StartActivity("wevis.login", ActivityKind.Server);

    /// <summary>Counts a login's decision, and ends its span with it.</summary>
    /// <param name="activity">The login's span, if one was started.</param>
    /// <param name="accepted">Whether the login was accepted.</param>
    /// <param name="errorType">Why it was rejected, as a class (<c>invalid_credentials</c>, …); null if accepted.</param>
    public void LoginDecided(Activity? activity, bool accepted, string? errorType)
    {
        if (accepted)
        {
            _logins.Add(1, s_accepted);
        }
        else
        {
            _logins.Add(1, s_rejected, new KeyValuePair<string, object?>(ErrorTypeTag, errorType));
        }

        if (activity is not null)
        {
            activity.SetTag(LoginResultTag, accepted ? "accepted" : "rejected");
            if (!accepted)
            {
                activity.SetTag(ErrorTypeTag, errorType);
                activity.SetStatus(ActivityStatusCode.Error, errorType);
            }
        }
    }

    /// <summary>Starts the span of a room handling <paramref name="message"/>, if anything listens.</summary>
    public static Activity? StartHandling(string roomType, string roomId, IMessage message)
    {
        if (!s_source.HasListeners())
        {
            return null;
        }

        Activity? activity = s_source.StartActivity("wevis.handle", ActivityKind.Consumer);
        if (activity is not null)
        {
            activity.DisplayName = "handle " + message.Descriptor.Name;
            activity.SetTag(RoomTypeTag, roomType);
            activity.SetTag("wevis.room.id", roomId);
            activity.SetTag(MessageTypeTag, message.Descriptor.Name);
        }

        return activity;
    }

    /// <summary>Records how long a handler took, from <paramref name="started"/> (a <see cref="Stopwatch"/> time stamp), and ends its span.</summary>
    public void Handled(string roomType, MessageDescriptor descriptor, long started, Activity? activity)
    {
        if (_handlerDuration.Enabled)
        {
            var tags = new TagList { { RoomTypeTag, roomType }, { MessageTypeTag, descriptor.Name } };
            _handlerDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
        }

        activity?.Dispose();
    }

    /// <summary>Starts the span of a room's tick, if anything listens.</summary>
    public static Activity? StartTick(string roomType, string roomId, long number)
    {
        if (!s_source.HasListeners())
        {
            return null;
        }

        Activity? activity = s_source.StartActivity("wevis.tick", ActivityKind.Internal);
        if (activity is not null)
        {
            activity.DisplayName = "tick " + roomType;
            activity.SetTag(RoomTypeTag, roomType);
            activity.SetTag("wevis.room.id", roomId);
            activity.SetTag("wevis.tick.number", number);
        }

        return activity;
    }

    /// <summary>Records how long a tick took, from <paramref name="started"/>, and ends its span.</summary>
    public void Ticked(string roomType, long started, Activity? activity)
    {
        if (_tickDuration.Enabled)
        {
            _tickDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>(RoomTypeTag, roomType));
        }

        activity?.Dispose();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    /// <summary>Calls <paramref name="each"/> for every whole frame in <paramref name="frames"/> whose wire id the registry knows.</summary>
    private void ForEachFrame(ReadOnlySpan<byte> frames, Action<ServerMetrics, MessageDescriptor, int> each)
    {
        while (frames.Length > Transport.FrameReader.HeaderSize)
        {
            int length = Transport.FrameReader.HeaderSize + BinaryPrimitives.ReadInt32BigEndian(frames);
            if (length > frames.Length || length <= Transport.FrameReader.HeaderSize)
            {
                return;
            }

            if (TryPeekWireId(frames[Transport.FrameReader.HeaderSize..length], out int wireId)
                && _registry.TryGetByWireId(wireId, out MessageDescriptor? descriptor))
            {
                each(this, descriptor, length);
            }

            frames = frames[length..];
        }
    }

    /// <summary>The wire id of an encoded body (the server's own, so well formed).</summary>
    private static bool TryPeekWireId(ReadOnlySpan<byte> body, out int wireId)
    {
        if (Serialization.WireReader.TryReadCommonHeader(body, out _, out wireId, out _))
        {
            return true;
        }

        try
        {
            var reader = new Serialization.WireReader(body);
            reader.ReadBodyHeader(out wireId);
            return true;
        }
        catch (ProtocolException)
        {
            wireId = 0;
            return false;
        }
    }
}

/// <summary>The server's states its metrics observe when a listener collects; the server implements it.</summary>
internal interface IServerObservations
{
    /// <summary>Connections open now, logging in or logged in.</summary>
    int OpenConnections { get; }

    /// <summary>Logged-in sessions now.</summary>
    int LoggedInSessions { get; }

    /// <summary>Bytes queued for sending, summed over connections.</summary>
    long QueuedBytes { get; }

    /// <summary>The most bytes queued for one connection.</summary>
    long MostQueuedBytes { get; }

    /// <summary>How many rooms there are of each type, one measurement per type.</summary>
    IEnumerable<Measurement<long>> RoomsByType();
}
