using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Wevis.Soak;

/// <summary>The soak's command line.</summary>
/// <param name="Clients">How many clients run at once, each connecting, exchanging and disconnecting in a loop.</param>
/// <param name="Duration">How long the clients run.</param>
/// <param name="MaxMessagesPerConnection">Each connection exchanges between 1 and this many messages before it disconnects.</param>
/// <param name="PayloadBytes">The size of each message's payload.</param>
/// <param name="Seed">Seeds each client's choices, so a run can be repeated.</param>
/// <param name="FaultEvery">
/// 0: clients connect straight to the server. Otherwise they connect through a fault proxy that breaks each connection
/// at a random point (reset, close or black hole), on average every this many messages, and resume their sessions.
/// </param>
internal sealed record SoakOptions(int Clients, TimeSpan Duration, int MaxMessagesPerConnection, int PayloadBytes, int Seed, int FaultEvery = 0)
{
    public const string Usage =
        "usage: Wevis.Soak [--clients N (50)] [--minutes M (1; fractions allowed)] [--messages K (200)] [--payload BYTES (64)] [--seed S (1)] [--faults EVERY (0: none)]";

    public static bool TryParse(string[] args, [NotNullWhen(true)] out SoakOptions? options, [NotNullWhen(false)] out string? error)
    {
        var result = new SoakOptions(50, TimeSpan.FromMinutes(1), 200, 64, 1);
        options = null;
        error = null;
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            if (i + 1 >= args.Length || !double.TryParse(args[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || value < 0)
            {
                error = $"{name} needs a number after it";
                return false;
            }

            i++;
            switch (name)
            {
                case "--clients" when value >= 1:
                    result = result with { Clients = (int)value };
                    break;
                case "--minutes" when value > 0:
                    result = result with { Duration = TimeSpan.FromMinutes(value) };
                    break;
                case "--messages" when value >= 1:
                    result = result with { MaxMessagesPerConnection = (int)value };
                    break;
                case "--payload":
                    result = result with { PayloadBytes = (int)value };
                    break;
                case "--seed":
                    result = result with { Seed = (int)value };
                    break;
                case "--faults":
                    result = result with { FaultEvery = (int)value };
                    break;
                default:
                    error = $"unknown option or value out of range: {name} {args[i]}";
                    return false;
            }
        }

        options = result;
        return true;
    }
}
