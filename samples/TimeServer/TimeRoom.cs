using Microsoft.Extensions.Logging;
using TimeMessages;
using Wevis;

namespace TimeServer;

/// <summary>
/// The original example's room: says <see cref="ServerReady"/> to each user who enters, then answers the time,
/// the user's name, and requests for floats.
/// </summary>
public sealed partial class TimeRoom : Room
{
    /// <summary>The most floats one request may ask for, singles and doubles together (1 MiB frames hold about 130,000 doubles).</summary>
    public const int MaxFloats = 100_000;

    /// <inheritdoc/>
    protected override void OnUserEnter(Connection connection)
    {
        connection.Send(new ServerReady());
    }

    /// <inheritdoc/>
    protected override void Handle(Connection connection, IMessage message)
    {
        switch (message)
        {
            case WhatTimeIsIt:
                DateTime now = DateTime.Now;
                connection.Send(new ItIs(now.Hour, now.Minute));
                break;
            case WhoAmI:
                connection.Send(new YouAre(connection.User.Name));
                break;
            case PleaseMayIHaveSomeFloats(int singles, int doubles):
                if (singles < 0 || doubles < 0 || (long)singles + doubles > MaxFloats)
                {
                    connection.Close($"Asked for {singles} singles and {doubles} doubles; at most {MaxFloats} floats in all.");
                    return;
                }

                connection.Send(new SomeFloats(Tenths(singles, i => (float)i / 10), Tenths(doubles, i => i / 10.0)));
                break;
            default:
                // As the original's `raise Exception`: the server logs it, with the user and the message, and carries on.
                throw new InvalidOperationException($"Unexpected message: {message}");
        }

        LogAnswered(Logger, connection.User.Name, message);
    }

    /// <summary>0.0, 0.1, 0.2, …: <paramref name="count"/> values.</summary>
    private static T[] Tenths<T>(int count, Func<int, T> tenth)
    {
        var values = new T[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = tenth(i);
        }

        return values;
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "Answered {User}'s {Request}")]
    private static partial void LogAnswered(ILogger logger, string user, IMessage request);
}
