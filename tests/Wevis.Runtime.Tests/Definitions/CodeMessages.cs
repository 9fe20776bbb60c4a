namespace Wevis.Runtime.Tests.Messages;

/// <summary>A message defined in C#, as the original allowed definitions written in code.</summary>
[WevisMessage]
public partial record Move(int X, int Y);

/// <summary>A code-defined message with reference-typed arguments.</summary>
[WevisMessage]
public partial record Tagged(string Tag, double[] Values);

/// <summary>A message without arguments whose record holds state of its own, so each read must make a new one.</summary>
[WevisMessage]
public partial record Stamped
{
    /// <summary>When this instance was made: state of the record's own, not sent.</summary>
#pragma warning disable WEVIS023 // not sent on purpose: each read makes its own
    internal readonly long MadeAt = System.Diagnostics.Stopwatch.GetTimestamp();
#pragma warning restore WEVIS023
}
