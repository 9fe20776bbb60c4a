namespace Wevis.Samples.Chat;

/// <summary>
/// The chat from a terminal: each line typed is said in the current channel, except commands: <c>/open NAME</c>,
/// <c>/join NAME</c> (an existing channel, by the client's own room request), <c>/list</c>, <c>/leave</c> (back to
/// the lobby) and <c>/quit</c>. What arrives is printed as it comes.
/// </summary>
internal static class ConsoleClient
{
    public static async Task<int> RunAsync(CommandLine options, TextReader input, TextWriter output)
    {
        string user = options.Get("--user", string.Empty);
        if (user.Length == 0)
        {
            throw new CommandLineException("--user is needed.");
        }

        await using Client client = ChatServer.CreateClient(user, options.Get("--host", "localhost"), options.GetInt("--port", 12122, 1, 65535));
        try
        {
            await client.ConnectAsync();
        }
        catch (WevisException ex)
        {
            output.WriteLine(ex.Message);
            return 1;
        }

        client.RoomChanged += (_, change) => output.WriteLine(
            change.Reason.Length == 0 ? $"* you are in {change.Room.Id}" : $"* you are in {change.Room.Id}: {change.Reason}");
        Task printing = PrintAsync(client, output);
        while (await input.ReadLineAsync() is { } line && line != "/quit")
        {
            try
            {
                await RunCommandAsync(client, line, output);
            }
            catch (JoinRefusedException ex)
            {
                output.WriteLine($"! {ex.Reason}");
            }
        }

        await client.DisposeAsync();
        await printing;
        return 0;
    }

    private static async Task RunCommandAsync(Client client, string line, TextWriter output)
    {
        string[] words = line.Split(' ', 2, StringSplitOptions.TrimEntries);
        switch (words[0])
        {
            case "/open" when words.Length == 2:
                client.Send(new OpenChannel(words[1]));
                break;
            case "/join" when words.Length == 2:
                await client.JoinRoomAsync(words[1]);
                break;
            case "/list":
                client.Send(new ListChannels());
                break;
            case "/leave":
                await client.LeaveRoomAsync();
                break;
            case "":
                break;
            default:
                if (line.StartsWith('/'))
                {
                    output.WriteLine("! Commands: /open NAME, /join NAME, /list, /leave, /quit; anything else is said in the channel.");
                }
                else
                {
                    client.Send(new Say(line));
                }

                break;
        }
    }

    private static async Task PrintAsync(Client client, TextWriter output)
    {
        try
        {
            await foreach (IMessage message in client.ReadAllAsync())
            {
                output.WriteLine(message switch
                {
                    Said(string user, string text) => $"{user}: {text}",
                    UserJoined(string user) => $"* {user} joined",
                    UserLeft(string user) => $"* {user} left",
                    Greeting(string text) => $"* {text}",
                    ChannelInfo(string name, int users) => $"  #{name} ({users})",
                    ChannelsListed(int count) => $"* {count} channel(s)",
                    Refused(string reason) => $"! {reason}",
                    _ => message.ToString(),
                });
            }
        }
        catch (ConnectionClosedException ex)
        {
            output.WriteLine($"! {ex.Message}");
        }
    }
}
