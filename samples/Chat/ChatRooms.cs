namespace Wevis.Samples.Chat;

/// <summary>
/// What the lobby and the channels have in common: a user anywhere may open a channel (made on first use) or list
/// them. Moving is the room's own code: the user leaves this room in its turn, then enters the channel in its turn.
/// </summary>
internal abstract class ChatRoomBase : Room
{
    /// <summary>The room type of channels.</summary>
    public const string ChannelType = "channel";

    protected override async ValueTask HandleAsync(Connection connection, IMessage message)
    {
        switch (message)
        {
            case OpenChannel(string name):
                await OpenAsync(connection, name);
                break;
            case ListChannels:
                IReadOnlyList<RoomInfo> channels = Rooms.List(ChannelType);
                foreach (RoomInfo channel in channels)
                {
                    connection.Send(new ChannelInfo(channel.Id, channel.Count));
                }

                connection.Send(new ChannelsListed(channels.Count));
                break;
            default:
                Handle(connection, message);
                break;
        }
    }

    private async ValueTask OpenAsync(Connection connection, string name)
    {
        if (ChannelNames.Check(name) is { } problem)
        {
            connection.Send(new Refused(problem));
            return;
        }

        // Channels are made only here, one request at a time per room, so two users opening a new name get one channel.
        Room channel = Rooms.Find(name) ?? await Rooms.CreateAsync(ChannelType, name);
        JoinResult result = await MoveAsync(connection, channel);
        if (!result.Accepted)
        {
            connection.Send(new Refused($"Cannot open {name}: {result.RefusalReason}."));
        }
    }
}

/// <summary>The entry room: greets each user and lets them open or list channels.</summary>
internal sealed class LobbyRoom : ChatRoomBase
{
    protected override void Handle(Connection connection, IMessage message) =>
        connection.Send(new Refused("You are in the lobby: open a channel to talk."));

    protected override void OnUserEnter(Connection connection) =>
        connection.Send(new Greeting($"Hello {connection.User.Name}. {Rooms.List(ChannelType).Count} channel(s) open; open one with OpenChannel."));
}

/// <summary>
/// A channel: relays what its users say, tells them who comes and goes, gives a newcomer the recent history, and
/// closes itself when no one has spoken for <see cref="IdleTimeout"/> (its users go back to the lobby).
/// </summary>
internal sealed class ChannelRoom(TimeSpan idleTimeout) : ChatRoomBase
{
    /// <summary>The longest line a user may say.</summary>
    public const int MaxLineLength = 500;

    /// <summary>How many recent lines a newcomer is given.</summary>
    public const int HistoryLength = 20;

    private readonly Queue<Said> _history = new();
    private IDisposable? _idle;

    public TimeSpan IdleTimeout { get; } = idleTimeout;

    protected override void OnCreated() => ResetIdleTimer();

    protected override void Handle(Connection connection, IMessage message)
    {
        if (message is not Say(string text))
        {
            connection.Send(new Refused($"{message.Descriptor.Name} is not something a channel does."));
            return;
        }

        if (text.Length is 0 or > MaxLineLength)
        {
            connection.Send(new Refused($"A line must have 1 to {MaxLineLength} characters."));
            return;
        }

        var said = new Said(connection.User.Name, text);
        _history.Enqueue(said);
        if (_history.Count > HistoryLength)
        {
            _history.Dequeue();
        }

        Broadcast(said);
        ResetIdleTimer();
    }

    protected override void OnUserEnter(Connection connection)
    {
        foreach (Said line in _history)
        {
            connection.Send(line);
        }

        Broadcast(new UserJoined(connection.User.Name));
    }

    protected override void OnUserLeave(Connection connection) => Broadcast(new UserLeft(connection.User.Name), except: connection);

    protected override void OnDisposed() => _idle?.Dispose();

    private void ResetIdleTimer()
    {
        _idle?.Dispose();
        _idle = Schedule(IdleTimeout, () => CloseAsync($"no one said anything for {IdleTimeout.TotalMinutes:0.#} minutes"));
    }
}

/// <summary>What a channel may be called.</summary>
internal static class ChannelNames
{
    public const int MaxLength = 32;

    /// <summary>Why <paramref name="name"/> is not a channel's name, or null if it is one.</summary>
    public static string? Check(string name)
    {
        if (name.Length is 0 or > MaxLength || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
        {
            return $"A channel's name has 1 to {MaxLength} letters, digits or '-'.";
        }

        return name == RoomDirectory.EntryRoomName ? "That name is the lobby's." : null;
    }
}
