using Microsoft.CodeAnalysis;

namespace Wevis.Generator.Model
{
    /// <summary>
    /// A diagnostic to report, kept as equatable values (descriptor id, location, message arguments)
    /// until the output stage turns it into a Roslyn <see cref="Diagnostic"/>.
    /// </summary>
    internal sealed record DiagnosticInfo(
        string DescriptorId,
        LocationInfo? Location,
        ImmutableEquatableArray<string> MessageArguments,
        ImmutableEquatableArray<LocationInfo> AdditionalLocations)
    {
        public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, LocationInfo? location, params string[] messageArguments) =>
            new(descriptor.Id, location, messageArguments.ToImmutableEquatableArray(), ImmutableEquatableArray<LocationInfo>.Empty);

        public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, LocationInfo? location, LocationInfo additionalLocation, params string[] messageArguments) =>
            new(descriptor.Id, location, messageArguments.ToImmutableEquatableArray(), new[] { additionalLocation }.ToImmutableEquatableArray());

        public Diagnostic ToDiagnostic() => ToDiagnostic(Location?.ToLocation() ?? Microsoft.CodeAnalysis.Location.None);

        /// <summary>The diagnostic at <paramref name="location"/>: the same place, in a form the caller chose (a syntax tree's).</summary>
        public Diagnostic ToDiagnostic(Location location)
        {
            var additional = new Location[AdditionalLocations.Count];
            for (int i = 0; i < additional.Length; i++)
            {
                additional[i] = AdditionalLocations[i].ToLocation();
            }

            object[] arguments = new object[MessageArguments.Count];
            for (int i = 0; i < arguments.Length; i++)
            {
                arguments[i] = MessageArguments[i];
            }

            return Diagnostic.Create(
                DiagnosticDescriptors.ById(DescriptorId),
                location,
                additional,
                arguments);
        }
    }
}
