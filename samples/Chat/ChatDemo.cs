namespace Wevis.Samples.Chat;

/// <summary>
/// Three users, scripted: each step waits for what it makes happen, so the transcript is the same on every run.
/// It shows the lobby, opening (and so creating) a channel, the history a newcomer is given, listing channels,
/// moving from one channel to another, and going back to the lobby.
/// </summary>
internal static class ChatDemo
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(10);

    public static async Task RunAsync(string host, int port, TextWriter output)
    {
        await using Client ada = await ConnectAsync("ada", host, port, output);
        await using Client ben = await ConnectAsync("ben", host, port, output);
        await using Client cy = await ConnectAsync("cy", host, port, output);

        ada.Send(new OpenChannel("general"));
        await Expect<UserJoined>(ada);
        output.WriteLine($"ada opened #general; she is in {ada.Room?.Id}");

        ben.Send(new OpenChannel("general"));
        await Expect<UserJoined>(ben);
        output.WriteLine($"ben opened #general; ada sees: {(await Expect<UserJoined>(ada)).User} joined");

        ada.Send(new Say("hello ben"));
        Said line = await Expect<Said>(ben);
        await Expect<Said>(ada);
        output.WriteLine($"ben sees: {line.User}: {line.Text}");

        cy.Send(new OpenChannel("general"));
        Said history = await Expect<Said>(cy);
        await Expect<UserJoined>(cy);
        await Expect<UserJoined>(ada);
        await Expect<UserJoined>(ben);
        output.WriteLine($"cy opened #general and was given the history: {history.User}: {history.Text}");

        ben.Send(new OpenChannel("random"));
        await Expect<UserJoined>(ben);
        await Expect<UserLeft>(ada);
        output.WriteLine($"ben moved to #{ben.Room?.Id}; cy sees: {(await Expect<UserLeft>(cy)).User} left");

        cy.Send(new ListChannels());
        var channels = new List<string>();
        while (await Expect<IMessage>(cy) is ChannelInfo info)
        {
            channels.Add($"#{info.Name} ({info.Users})");
        }

        output.WriteLine($"cy lists the channels: {string.Join(", ", channels)}");

        await ben.LeaveRoomAsync().WaitAsync(StepTimeout);
        Greeting greeting = await Expect<Greeting>(ben);
        output.WriteLine($"ben went back to the {ben.Room?.Id}: {greeting.Text}");
    }

    private static async Task<Client> ConnectAsync(string user, string host, int port, TextWriter output)
    {
        Client client = ChatServer.CreateClient(user, host, port);
        await client.ConnectAsync();
        Greeting greeting = await Expect<Greeting>(client);
        output.WriteLine($"{user} logged in: {greeting.Text}");
        return client;
    }

    private static async Task<T> Expect<T>(Client client)
        where T : IMessage => await client.ReceiveAsync<T>().AsTask().WaitAsync(StepTimeout);
}
