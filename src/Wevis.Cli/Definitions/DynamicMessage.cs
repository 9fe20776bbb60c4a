using System.Text;

namespace Wevis.Cli.Definitions;

/// <summary>
/// A message of a type read from definitions at run time: its descriptor and its argument values, in definition
/// order, each of the CLR type its wire type is read as (<c>int</c>, <c>long</c>, <c>double</c>, <c>bool</c>,
/// <c>string</c>, <c>byte[]</c>, <c>float[]</c>, <c>double[]</c>).
/// </summary>
internal sealed class DynamicMessage : IMessage
{
    public DynamicMessage(DynamicMessageDescriptor descriptor, object[] values)
    {
        if (values.Length != descriptor.Arguments.Count)
        {
            throw new ArgumentException($"{descriptor.Name} has {descriptor.Arguments.Count} argument(s), not {values.Length}.", nameof(values));
        }

        Descriptor = descriptor;
        Values = values;
    }

    public DynamicMessageDescriptor Descriptor { get; }

    MessageDescriptor IMessage.Descriptor => Descriptor;

    public IReadOnlyList<object> Values { get; }

    public string Name => Descriptor.Name;

    /// <summary>The value of the argument named <paramref name="name"/> as defined.</summary>
    public object this[string name] => Values[Descriptor.IndexOf(name)];

    /// <summary>The message as a line a user could type: <c>ItIs hours=3 minutes=4</c>.</summary>
    public override string ToString() => MessageText.Format(this);

    public override bool Equals(object? obj) =>
        obj is DynamicMessage other && ReferenceEquals(other.Descriptor, Descriptor) && ToString() == other.ToString();

    public override int GetHashCode() => ToString().GetHashCode(StringComparison.Ordinal);
}
