using System.Collections.Concurrent;
using Example;
using Wevis.Runtime.Tests.Messages;

namespace Wevis.Runtime.Tests.Infrastructure;

/// <summary>
/// The original example's room, plus what the tests need to observe: enter and leave counts, and numbered
/// messages checked for order and answered in kind.
/// </summary>
internal class TimeRoom : Room
{
    private readonly ConcurrentDictionary<string, int> _entered = new();
    private readonly ConcurrentDictionary<string, int> _left = new();
    private readonly Dictionary<Connection, int> _nextSequence = [];

    public int OutOfOrder { get; private set; }

    public long NumberedHandled { get; private set; }

    public TaskCompletionSource<Connection> FirstLeave { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once a <c>SomeFloats</c> reply has been queued for sending.</summary>
    public TaskCompletionSource FloatsQueued { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int EnteredCount(string user) => _entered.GetValueOrDefault(user);

    public int LeftCount(string user) => _left.GetValueOrDefault(user);

    public int TotalLeft => _left.Values.Sum();

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
                connection.Send(new SomeFloats(
                    Enumerable.Range(0, singles).Select(i => i * 0.1f).ToArray(),
                    Enumerable.Range(0, doubles).Select(i => i * 0.1).ToArray()));
                FloatsQueued.TrySetResult();
                break;
            case Numbered(int sequence):
                int expected = _nextSequence.GetValueOrDefault(connection);
                if (sequence != expected)
                {
                    OutOfOrder++;
                }

                _nextSequence[connection] = sequence + 1;
                NumberedHandled++;
                connection.Send(new NumberedReply(sequence));
                break;
            case Explode(string reason):
                throw new InvalidOperationException(reason);
            case Move move:
                Broadcast(move);
                break;
        }
    }

    protected override void OnUserEnter(Connection connection)
    {
        _entered.AddOrUpdate(connection.User.Name, 1, (_, n) => n + 1);
        connection.Send(new ServerReady());
    }

    protected override void OnUserLeave(Connection connection)
    {
        _left.AddOrUpdate(connection.User.Name, 1, (_, n) => n + 1);
        _nextSequence.Remove(connection);
        FirstLeave.TrySetResult(connection);
    }
}
