using System.Globalization;
using TimeMessages;
using Wevis;

namespace TimeClient;

/// <summary>
/// The original example's client conversation, in both client styles: log in, wait for ServerReady, then ask who
/// we are, what time it is, and for some floats, printing each answer.
/// </summary>
public static class TimeConversation
{
    /// <summary>How many single- and double-precision floats to ask for.</summary>
    public const int Singles = 3, Doubles = 5;

    /// <summary>Blocking style, as the original Python client: each call returns when its answer is in.</summary>
    /// <exception cref="LoginRejectedException">The server refused the login.</exception>
    /// <exception cref="WevisException">The connection failed or closed.</exception>
    public static void RunBlocking(Client client, TextWriter output)
    {
        client.StartBlocking();
        client.ReceiveBlocking<ServerReady>();

        client.Send(new WhoAmI());
        YouAre you = client.ReceiveBlocking<YouAre>();
        output.WriteLine($"Username: {you.Name}");

        client.Send(new WhatTimeIsIt());
        ItIs time = client.ReceiveBlocking<ItIs>();
        output.WriteLine($"It is {time.Hours:00}:{time.Minutes:00}");

        client.Send(new PleaseMayIHaveSomeFloats(Singles, Doubles));
        SomeFloats floats = client.ReceiveBlocking<SomeFloats>();
        output.WriteLine($"Singles: {Format(floats.Singles)}");
        output.WriteLine($"Doubles: {Format(floats.Doubles)}");
    }

    /// <summary>Async style: send every request at once, then match on the answers as they arrive, in order.</summary>
    /// <exception cref="LoginRejectedException">The server refused the login.</exception>
    /// <exception cref="WevisException">The connection failed or closed.</exception>
    public static async Task RunAsync(Client client, TextWriter output, CancellationToken cancellationToken = default)
    {
        await client.ConnectAsync(cancellationToken);
        await client.ReceiveAsync<ServerReady>(cancellationToken);

        client.Send(new WhoAmI());
        client.Send(new WhatTimeIsIt());
        client.Send(new PleaseMayIHaveSomeFloats(Singles, Doubles));

        await foreach (IMessage message in client.ReadAllAsync(cancellationToken))
        {
            switch (message)
            {
                case YouAre(string name):
                    output.WriteLine($"Username: {name}");
                    break;
                case ItIs(int hours, int minutes):
                    output.WriteLine($"It is {hours:00}:{minutes:00}");
                    break;
                case SomeFloats(float[] singles, double[] doubles):
                    output.WriteLine($"Singles: {Format(singles)}");
                    output.WriteLine($"Doubles: {Format(doubles)}");
                    return; // The last answer.
            }
        }
    }

    /// <summary>[0.0, 0.1, 0.2], as Python prints a list of floats.</summary>
    private static string Format<T>(T[] values)
        where T : IFormattable =>
        "[" + string.Join(", ", values.Select(v => v.ToString("0.0###", CultureInfo.InvariantCulture))) + "]";
}
