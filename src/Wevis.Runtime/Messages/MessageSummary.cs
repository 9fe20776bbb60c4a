namespace Wevis;

/// <summary>A message as a log line shows it: its text, cut to a bounded length so that a huge message cannot flood the log.</summary>
internal static class MessageSummary
{
    /// <summary>The most characters of a message's text that a log line holds.</summary>
    public const int MaxLength = 200;

    /// <summary><paramref name="message"/>'s text, or its first <see cref="MaxLength"/> characters and the full length.</summary>
    public static string Of(IMessage message)
    {
        string text = message.ToString() ?? message.Descriptor.Name;
        return text.Length <= MaxLength ? text : $"{text.AsSpan(0, MaxLength)}… ({text.Length} characters in all)";
    }
}
