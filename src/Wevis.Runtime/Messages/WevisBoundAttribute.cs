namespace Wevis;

/// <summary>
/// Bounds a parameter of a <c>[WevisMessage]</c> record, as <c>name=str(32)</c> does in a definitions file: a
/// <see cref="string"/> to <see cref="Max"/> bytes of UTF-8, a <see cref="byte"/> array to that many bytes, a
/// <see cref="float"/> or <see cref="double"/> array to that many values. Checked when the message is sent and
/// when it is received.
/// </summary>
/// <example>
/// <code>
/// [WevisMessage]
/// public partial record Chat([WevisBound(200)] string Text);
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Parameter, Inherited = false, AllowMultiple = false)]
public sealed class WevisBoundAttribute : Attribute
{
    /// <summary>Bounds the parameter to <paramref name="max"/> bytes (strings, byte arrays) or values (float arrays).</summary>
    /// <param name="max">The bound, at least 1.</param>
    public WevisBoundAttribute(int max) => Max = max;

    /// <summary>The bound: bytes for strings (UTF-8) and byte arrays, values for float arrays.</summary>
    public int Max { get; }
}
