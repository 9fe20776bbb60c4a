using System.ComponentModel;

namespace Wevis;

/// <summary>
/// Marks an assembly that defines Wevis messages and names its generated registry class. The generator writes it;
/// when another project references this assembly, its generator finds the attribute and registers this registry in
/// <see cref="MessageRegistry.Default"/> from that project's own module initializer, so a program whose messages
/// live in a shared library has them from the start.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = false)]
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class WevisRegistryAttribute : Attribute
{
    /// <summary>Names the assembly's registry class (the generated <c>WevisRegistry</c>).</summary>
    public WevisRegistryAttribute(Type registryType) => RegistryType = registryType;

    /// <summary>The generated registry class; its static <c>Messages</c> property holds the message types.</summary>
    public Type RegistryType { get; }
}
