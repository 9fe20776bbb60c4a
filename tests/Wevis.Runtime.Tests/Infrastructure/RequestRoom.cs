using Lobby;
using Wevis.Runtime.Tests.Requests;

namespace Wevis.Runtime.Tests.Infrastructure;

/// <summary>
/// A room that answers requests: numbered echoes, in pairs out of order (1 before 0, 3 before 2, …) with a broadcast
/// before each reply; lobby joins; and questions it answers, holds until told, refuses or fails on, as they say.
/// </summary>
internal sealed class RequestRoom : TimeRoom
{
    private readonly List<Request<Ask>> _held = [];
    private readonly Dictionary<Connection, Request<Echo>> _evenEchoes = [];
    private readonly SemaphoreSlim _holds = new(0);

    /// <summary>What answering a request twice did.</summary>
    public Exception? SecondAnswer { get; private set; }

    /// <summary>Waits until the room holds one more question (each call waits for its own).</summary>
    public Task HeldAsync(CancellationToken cancellationToken) => _holds.WaitAsync(cancellationToken);

    /// <summary>Answers the held questions now, in the order they came, each with its request's id, in the room's turn.</summary>
    public Task AnswerHeldAsync() => InvokeAsync(() =>
    {
        foreach (Request<Ask> ask in _held)
        {
            ask.Reply(new Answer($"answer to request {ask.Id}"));
        }

        _held.Clear();
    });

    private void Echo(Request<Echo> echo)
    {
        Broadcast(new Tick(echo.Message.Sequence));
        echo.Reply(new Echoed(echo.Message.Sequence));
    }

    protected override void Handle(Connection connection, IMessage message)
    {
        switch (message)
        {
            case Request<Echo> { Message.Sequence: var sequence } echo when sequence % 2 == 0:
                _evenEchoes[connection] = echo;
                break;
            case Request<Echo> echo:
                Echo(echo);
                if (_evenEchoes.Remove(connection, out Request<Echo>? even))
                {
                    Echo(even);
                }

                break;
            case Request<Join> join when join.Message.Room.Length == 0:
                join.Fail("Name a room to join.");
                break;
            case Request<Join> join when join.Message.Room == "full":
                join.Reply(new RoomFull(join.Message.Room));
                break;
            case Request<Join> join:
                join.Reply(new Joined(join.Message.Room, Count));
                break;
            case Request<Ask> { Message.Question: "hold" } ask:
                _held.Add(ask);
                _holds.Release();
                break;
            case Request<Ask> { Message.Question: "twice" } ask:
                ask.Reply(new Answer("once"));
                try
                {
                    ask.Reply(new Answer("twice"));
                }
                catch (InvalidOperationException ex)
                {
                    SecondAnswer = ex;
                }

                break;
            case Request<Ask> { Message.Question: "throw" }:
                throw new InvalidOperationException("the handler broke");
            case Request<Ask> ask when ask.Message.Question.StartsWith("fail:", StringComparison.Ordinal):
                ask.Fail(ask.Message.Question["fail:".Length..]);
                break;
            case Request<Ask> ask:
                ask.Reply(new Answer(ask.Message.Question));
                break;
            default:
                base.Handle(connection, message);
                break;
        }
    }
}
