namespace Wevis.Runtime.Tests.Messages;

/// <summary>A message defined in C#, as the original allowed definitions written in code.</summary>
[WevisMessage]
public partial record Move(int X, int Y);

/// <summary>A code-defined message with reference-typed arguments.</summary>
[WevisMessage]
public partial record Tagged(string Tag, double[] Values);
