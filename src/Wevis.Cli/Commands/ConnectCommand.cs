using System.CommandLine;
using Wevis.Cli.Definitions;
using Wevis.Cli.Interactive;

namespace Wevis.Cli.Commands;

/// <summary>
/// <c>wevis connect host:port</c>: an interactive session. Each line typed is a message sent (<c>ItIs hours=3
/// minutes=4</c>) or a command (<c>:help</c>); what arrives is printed above the line being typed. Tab completes
/// message and argument names; up and down go through the history.
/// </summary>
internal static class ConnectCommand
{
    private const string Help = """
        Type a message to send it: WhoAmI, ItIs hours=3 minutes=4, Say text="hello there".
        Tab completes message and argument names; up and down go through what you typed.
          :messages               the messages of the definitions, with their arguments
          :join ROOM              move to the room ROOM
          :join-or-create TYPE    move to a room of TYPE with a place, or a new one
          :create TYPE            move to a new room of TYPE
          :leave                  go back to the entry room
          :quit                   close the connection (or Ctrl+D)
        """;

    public static Command Create()
    {
        var connection = new ConnectionOptions();
        var command = new Command("connect", "An interactive session: type messages to send them, and see what arrives.");
        connection.AddTo(command);
        command.SetAction((parse, cancellationToken) => RunAsync(parse, connection, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, ConnectionOptions connection, CancellationToken cancellationToken)
    {
        TextWriter output = parse.InvocationConfiguration.Output;
        TextWriter error = parse.InvocationConfiguration.Error;
        bool json = parse.GetValue(connection.Json);
        LoadedDefinitions definitions;
        Client? client;
        try
        {
            definitions = connection.LoadDefinitions(parse, error);
            client = connection.CreateClient(parse, definitions, connection.ReadPassword(parse));
        }
        catch (UsageException ex)
        {
            error.WriteLine(ex.Message);
            return ExitCodes.Usage;
        }

        (client, int connected) = await Session.ConnectAsync(client!, error, cancellationToken).ConfigureAwait(false);
        if (client is null)
        {
            return connected;
        }

        await using (client.ConfigureAwait(false))
        {
            var editor = new LineEditor("> ", before => Completions.For(before, definitions), output);
            editor.WriteAbove($"Logged in to {client.Host}:{client.Port} as {client.Username}; {definitions.Messages.Count} message type(s). :help for help.");
            Task<string?> closed = PrintArrivalsAsync(client, editor, json);

            // The keyboard is read on its own thread, so a connection the server closes ends the session at once.
            while (true)
            {
                Task<string?> reading = Task.Factory.StartNew(editor.ReadLine, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
                if (await Task.WhenAny(reading, closed).ConfigureAwait(false) == closed)
                {
                    editor.WriteAbove($"The connection closed: {await closed.ConfigureAwait(false)}");
                    return ExitCodes.Closed;
                }

                string? line = await reading.ConfigureAwait(false);
                if (line is null || line.Trim() == ":quit")
                {
                    return ExitCodes.Success;
                }

                await HandleLineAsync(line.Trim(), client, definitions, editor).ConfigureAwait(false);
            }
        }
    }

    private static async Task HandleLineAsync(string line, Client client, LoadedDefinitions definitions, LineEditor editor)
    {
        if (line.Length == 0)
        {
            return;
        }

        try
        {
            if (line.StartsWith(':'))
            {
                string[] words = line.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                string argument = words.Length > 1 ? words[1] : string.Empty;
                ClientRoom? room = words[0] switch
                {
                    ":help" => Say(editor, Help),
                    ":messages" => Say(editor, string.Join('\n', definitions.Messages.Select(m => "  " + m.Definition))),
                    ":join" => await client.JoinRoomAsync(Required(argument, "a room id")).ConfigureAwait(false),
                    ":join-or-create" => await client.JoinOrCreateRoomAsync(Required(argument, "a room type")).ConfigureAwait(false),
                    ":create" => await client.CreateRoomAsync(Required(argument, "a room type")).ConfigureAwait(false),
                    ":leave" => await client.LeaveRoomAsync().ConfigureAwait(false),
                    _ => Say(editor, $"Unknown command {words[0]}; the commands are {string.Join(", ", Completions.Commands)}."),
                };
                if (room is not null)
                {
                    editor.WriteAbove($"In room {room.Id} ({room.Type}).");
                }

                return;
            }

            client.SendUntyped(MessageText.Parse(line, definitions));
        }
        catch (Exception ex) when (ex is FormatException or WevisException or ArgumentException)
        {
            editor.WriteAbove(ex.Message);
        }
    }

    private static ClientRoom? Say(LineEditor editor, string text)
    {
        editor.WriteAbove(text);
        return null;
    }

    private static string Required(string argument, string what) =>
        argument.Length > 0 ? argument : throw new FormatException($"Name {what}.");

    /// <summary>Prints every message as it arrives; completes with why the connection closed.</summary>
    private static async Task<string?> PrintArrivalsAsync(Client client, LineEditor editor, bool json)
    {
        try
        {
            await foreach (IMessage message in client.ReadAllAsync().ConfigureAwait(false))
            {
                var text = new StringWriter();
                Session.Print(text, message, json);
                editor.WriteAbove(text.ToString().TrimEnd('\n', '\r'));
            }

            return "the client was stopped";
        }
        catch (ConnectionClosedException closed)
        {
            return closed.Message;
        }
    }
}
