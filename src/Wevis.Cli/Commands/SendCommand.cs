using System.CommandLine;
using Wevis.Cli.Definitions;

namespace Wevis.Cli.Commands;

/// <summary>
/// <c>wevis send host:port WhoAmI --expect YouAre</c>: connects, logs in, sends one message written as text, and
/// with <c>--expect</c> waits for a message of that type and prints it (as text, or a JSON line with <c>--json</c>).
/// </summary>
internal static class SendCommand
{
    public static Command Create()
    {
        var connection = new ConnectionOptions();
        var message = new Argument<string[]>("message")
        {
            Description = "The message, as text: ItIs hours=3 minutes=4 (quote values with spaces: Say text=\"hi there\").",
            Arity = ArgumentArity.OneOrMore,
        };
        var expect = new Option<string?>("--expect", "-e") { Description = "Wait for a message of this type and print it; messages of other types are skipped." };
        var all = new Option<bool>("--all") { Description = "Print every message that arrives (until the expected one, with --expect)." };
        var command = new Command("send", "Connect, log in, send one message written as text, and print the answer asked for.");
        connection.AddTo(command);
        command.Add(message);
        command.Add(expect);
        command.Add(all);
        command.SetAction((parse, cancellationToken) => RunAsync(parse, connection, message, expect, all, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, ConnectionOptions connection, Argument<string[]> messageArgument, Option<string?> expectOption, Option<bool> allOption, CancellationToken cancellationToken)
    {
        TextWriter output = parse.InvocationConfiguration.Output;
        TextWriter error = parse.InvocationConfiguration.Error;
        bool json = parse.GetValue(connection.Json);
        bool all = parse.GetValue(allOption);
        Client? client;
        DynamicMessage message;
        string? expected = parse.GetValue(expectOption);
        TimeSpan timeout;
        try
        {
            LoadedDefinitions definitions = connection.LoadDefinitions(parse, error);
            message = MessageText.Parse(string.Join(' ', parse.GetValue(messageArgument)!), definitions);
            if (expected is not null)
            {
                DynamicMessageDescriptor expectedMessage = definitions.Find(expected)
                    ?? throw new UsageException($"--expect {expected}: not a message of the definitions; the messages are: {string.Join(", ", definitions.Messages.Select(m => m.Name))}.");
                if ((expectedMessage.Direction & MessageDirection.ServerToClient) == 0)
                {
                    throw new UsageException($"--expect {expected}: it is sent only by clients ({expectedMessage.Definition}); no {expected} ever arrives.");
                }
            }

            timeout = connection.TimeoutOf(parse);
            client = connection.CreateClient(parse, definitions, connection.ReadPassword(parse));
        }
        catch (Exception ex) when (ex is UsageException or FormatException)
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
            client.SendUntyped(message);
            if (expected is null)
            {
                return ExitCodes.Success;
            }

            using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bound.CancelAfter(timeout);
            try
            {
                while (true)
                {
                    IMessage arrived = await client.ReceiveAsync(bound.Token).ConfigureAwait(false);
                    if (arrived.Descriptor.Name == expected)
                    {
                        Session.Print(output, arrived, json);
                        return ExitCodes.Success;
                    }

                    if (all)
                    {
                        Session.Print(output, arrived, json);
                    }
                }
            }
            catch (OperationCanceledException) when (bound.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                error.WriteLine($"No {expected} arrived within {timeout.TotalSeconds:0.###} s.");
                return ExitCodes.Timeout;
            }
            catch (ConnectionClosedException closed)
            {
                error.WriteLine($"The connection closed before {expected} arrived: {closed.Message}");
                return ExitCodes.Closed;
            }
        }
    }
}
