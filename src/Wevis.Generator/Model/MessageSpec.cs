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

    /// <summary>
    /// Who sends a message. Kept in step with the runtime's <c>Wevis.MessageDirection</c> (same names and values;
    /// a test checks that they agree).
    /// </summary>
    internal enum Direction
    {
        /// <summary><c>client:</c>: sent by clients to the server.</summary>
        ClientToServer = 1,

        /// <summary><c>server:</c>: sent by the server to clients.</summary>
        ServerToClient = 2,

        /// <summary>No direction given: sent either way.</summary>
        Both = 3,
    }

    /// <summary>One argument of a message.</summary>
    /// <param name="Name">The name as defined (<c>hours</c>); used in docs, errors and the fingerprint.</param>
    /// <param name="PropertyName">The C# property and constructor parameter name (<c>Hours</c>).</param>
    /// <param name="Type">The argument's wire type.</param>
    /// <param name="Bound">Its bound (<c>str(32)</c> gives 32), or 0 for none.</param>
    /// <param name="NameLocation">Where its name is written, for the evolution check's errors; null if unknown.</param>
    /// <param name="TypeLocation">Where its type (and bound) is written, likewise.</param>
    internal sealed record ArgumentSpec(
        string Name,
        string PropertyName,
        WireType Type,
        int Bound = 0,
        LocationInfo? NameLocation = null,
        LocationInfo? TypeLocation = null);

    /// <summary>One message that answers a request.</summary>
    /// <param name="Name">The reply's message name.</param>
    /// <param name="TypeName">For a <c>[WevisMessage]</c> record, the fully qualified type it named (<c>global::App.YouAre</c>); null in a definitions file.</param>
    /// <param name="Location">Where the reply is named.</param>
    internal sealed record ReplySpec(string Name, string? TypeName, LocationInfo? Location);

    /// <summary>One message type, ready to emit.</summary>
    /// <param name="Name">The wire name, as defined (<c>ItIs</c>, or <c>_Ping</c> for a protocol message).</param>
    /// <param name="TypeName">The C# type name (the wire name without a leading underscore).</param>
    /// <param name="Namespace">The C# namespace, or empty for the global namespace.</param>
    /// <param name="WireId">The message's id on the wire, derived from <paramref name="Name"/> alone.</param>
    /// <param name="Arguments">The arguments, in the order they were written.</param>
    /// <param name="Origin">Whether the generator writes the record or completes a user's record.</param>
    /// <param name="SourceFileName">The definitions or source file's name, without folders, for docs.</param>
    /// <param name="Line">The one-based line the message was defined on.</param>
    /// <param name="Definition">The definition as a definitions-file line (<c>client: WhoAmI -&gt; YouAre</c>).</param>
    /// <param name="NameLocation">The name's location, for diagnostics that involve more than one message.</param>
    /// <param name="Direction">Who sends it.</param>
    /// <param name="DirectionLocation">Where <c>client:</c> or <c>server:</c> is written; null if it is not.</param>
    /// <param name="Replies">The messages that answer it, if it is a request (<c>-&gt; YouAre</c>); else empty.</param>
    /// <param name="RepliesLocation">Where <c>-&gt;</c> is written; null if it is not.</param>
    /// <param name="DefinitionsVersion">The <c>@version</c> of its definitions file, or 0.</param>
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
        LocationInfo NameLocation,
        Direction Direction,
        LocationInfo? DirectionLocation,
        ImmutableEquatableArray<ReplySpec> Replies,
        LocationInfo? RepliesLocation,
        int DefinitionsVersion)
    {
        public string FullTypeName => Namespace.Length == 0 ? "global::" + TypeName : "global::" + Namespace + "." + TypeName;

        public bool IsRequest => Replies.Count > 0;
    }
}
