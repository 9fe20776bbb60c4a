// These models flow through the incremental pipeline. They must compare by value and hold only strings,
// numbers, enums and ImmutableEquatableArray: no ISymbol, SyntaxNode, Compilation or raw arrays,
// which would defeat caching (every edit would look like a change) and keep compilations alive.

namespace Wevis.Generator.Model
{
    /// <summary>Where a message was defined.</summary>
    internal enum MessageOrigin
    {
        /// <summary>A line in a <c>.wevis</c> definitions file: the generator emits the record itself.</summary>
        DefinitionsFile,

        /// <summary>A <c>[WevisMessage]</c> partial record in C#: the generator completes the user's record.</summary>
        Code,
    }

    /// <summary>One argument of a message.</summary>
    /// <param name="Name">The name as defined (<c>hours</c>); used in docs, errors and the fingerprint.</param>
    /// <param name="PropertyName">The C# property and constructor parameter name (<c>Hours</c>).</param>
    /// <param name="Type">The argument's wire type.</param>
    internal sealed record ArgumentSpec(string Name, string PropertyName, WireType Type);

    /// <summary>One message type, ready to emit.</summary>
    /// <param name="Name">The wire name, as defined (<c>ItIs</c>, or <c>_Ping</c> for a protocol message).</param>
    /// <param name="TypeName">The C# type name (the wire name without a leading underscore).</param>
    /// <param name="Namespace">The C# namespace, or empty for the global namespace.</param>
    /// <param name="WireId">The message's id on the wire, derived from <paramref name="Name"/> alone.</param>
    /// <param name="Arguments">The arguments, in the order they were written.</param>
    /// <param name="Origin">Whether the generator writes the record or completes a user's record.</param>
    /// <param name="SourceFileName">The definitions or source file's name, without folders, for docs.</param>
    /// <param name="Line">The one-based line the message was defined on.</param>
    /// <param name="Definition">The definition as a definitions-file line (<c>ItIs hours=int minutes=int</c>).</param>
    /// <param name="NameLocation">The name's location, for diagnostics that involve more than one message.</param>
    internal sealed record MessageSpec(
        string Name,
        string TypeName,
        string Namespace,
        int WireId,
        ImmutableEquatableArray<ArgumentSpec> Arguments,
        MessageOrigin Origin,
        string SourceFileName,
        int Line,
        string Definition,
        LocationInfo NameLocation)
    {
        public string FullTypeName => Namespace.Length == 0 ? "global::" + TypeName : "global::" + Namespace + "." + TypeName;
    }
}
