using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Wevis.Hosting.Tests.Messages;

namespace Wevis.Hosting.Tests;

/// <summary>A service the rooms take in their constructors, to show they come from the container.</summary>
public sealed class Greeter
{
    public string Text { get; set; } = "hello from the container";
}

/// <summary>The validator of the hosted tests, a service with a dependency of its own: "michael"/"mypassword", version 1.0.0.</summary>
public sealed class TestValidator(Greeter greeter) : ILoginValidator
{
    public Greeter Greeter { get; } = greeter;

    public ValueTask<LoginResult> ValidateAsync(string username, string password, string salt, string version, CancellationToken cancellationToken) =>
        ValueTask.FromResult<LoginResult>(username == "michael" && version == "1.0.0" && Credentials.Verify(password, "mypassword", salt)
            ? new User(username)
            : "Unknown user or wrong password.");
}

/// <summary>The entry room: greets with the container's greeting, sends numbered messages on request, and records who left.</summary>
public sealed class EntryRoom(Greeter greeter, ILogger<EntryRoom> logger) : Room
{
    public ConcurrentQueue<string> Left { get; } = new();

    public ILogger<EntryRoom> InjectedLogger { get; } = logger;

    public TaskCompletionSource Disposed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    protected override void OnUserEnter(Connection connection) => connection.Send(new Greeting($"{greeter.Text} in {Type}"));

    protected override void Handle(Connection connection, IMessage message)
    {
        if (message is SendMany(int count))
        {
            for (int i = 0; i < count; i++)
            {
                connection.Send(new Numbered(i));
            }
        }
    }

    protected override void OnUserLeave(Connection connection) => Left.Enqueue(connection.User.Name);

    protected override void OnDisposed() => Disposed.TrySetResult();
}

/// <summary>A room type made by the container for each room.</summary>
public sealed class MatchRoom(Greeter greeter) : Room
{
    protected override void OnUserEnter(Connection connection) => connection.Send(new Greeting($"{greeter.Text} in {Type}"));
}
