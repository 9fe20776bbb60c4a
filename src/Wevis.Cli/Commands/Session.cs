using Wevis.Cli.Definitions;

namespace Wevis.Cli.Commands;

/// <summary>Connecting, logging in and printing arrivals, shared by the commands; failures become exit codes with the reason on standard error.</summary>
internal static class Session
{
    /// <summary>Connects and logs in; returns null (with the reason written and <paramref name="exitCode"/> set) if that fails.</summary>
    public static async Task<(Client? Client, int ExitCode)> ConnectAsync(Client client, TextWriter error, CancellationToken cancellationToken)
    {
        try
        {
            await client.ConnectAsync(cancellationToken).ConfigureAwait(false);
            return (client, ExitCodes.Success);
        }
        catch (LoginRejectedException rejected)
        {
            error.WriteLine($"Login rejected: {rejected.Reason}");
            await client.DisposeAsync().ConfigureAwait(false);
            return (null, ExitCodes.LoginRejected);
        }
        catch (ConnectionFailedException failed)
        {
            error.WriteLine(failed.Message);
            await client.DisposeAsync().ConfigureAwait(false);
            return (null, ExitCodes.ConnectionFailed);
        }
    }

    /// <summary>Writes a message that arrived, as text or as a JSON line.</summary>
    public static void Print(TextWriter output, IMessage message, bool json)
    {
        if (json && message is DynamicMessage dynamic)
        {
            output.WriteLine(MessageText.ToJson(dynamic));
        }
        else
        {
            output.WriteLine(MessageText.Format(message));
        }
    }
}
