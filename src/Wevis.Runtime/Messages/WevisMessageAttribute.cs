namespace Wevis;

/// <summary>
/// Makes a <c>partial record</c> a Wevis message, as if it were a line of a definitions file: the generator
/// adds its formatter and registry entry. Its primary constructor's parameters are the arguments, in order.
/// </summary>
/// <example>
/// <code>
/// [WevisMessage]
/// public partial record Move(int X, int Y);
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Class, Inherited = false, AllowMultiple = false)]
public sealed class WevisMessageAttribute : Attribute
{
}
