using System.Collections.Generic;
using Microsoft.CodeAnalysis;

namespace Wevis.Generator
{
    /// <summary>
    /// Every diagnostic the generator reports. Ids are stable: once released, an id keeps its meaning
    /// (docs/definitions.md lists them).
    /// </summary>
    internal static class DiagnosticDescriptors
    {
        private const string Category = "Wevis";
        private const string HelpLink = "https://github.com/wevis/wevis-dotnet/blob/main/docs/definitions.md#diagnostics";

        public static readonly DiagnosticDescriptor UnknownType = Error(
            "WEVIS001",
            "Unknown argument type",
            "Unknown type '{0}' for argument '{1}'; the types are: int, long, float, bool, str, bytes, ?f, ?d");

        public static readonly DiagnosticDescriptor MissingType = Error(
            "WEVIS002",
            "Argument without a type",
            "Argument '{0}' has no type; write it as name=type, without spaces (for example {0}=int)");

        public static readonly DiagnosticDescriptor InvalidMessageName = Error(
            "WEVIS003",
            "Invalid message name",
            "'{0}' is not a valid message name: it must start with a letter or '_' followed by letters, digits or '_'");

        public static readonly DiagnosticDescriptor InvalidArgumentName = Error(
            "WEVIS004",
            "Invalid argument name",
            "'{0}' is not a valid argument name: it must start with a letter followed by letters, digits or '_'");

        public static readonly DiagnosticDescriptor DuplicateMessage = Error(
            "WEVIS005",
            "Duplicate message name",
            "Message '{0}' is already defined at {1}; message names must be unique in a program");

        public static readonly DiagnosticDescriptor DuplicateArgument = Error(
            "WEVIS006",
            "Duplicate argument",
            "Argument '{0}' of message '{1}' has the same C# name '{2}' as an earlier argument");

        public static readonly DiagnosticDescriptor ReservedName = Error(
            "WEVIS007",
            "Reserved name",
            "'{0}' is reserved: {1}");

        public static readonly DiagnosticDescriptor ArgumentNamedLikeMessage = Error(
            "WEVIS008",
            "Argument named like its message",
            "Argument '{0}' would become property '{1}' of record '{1}', and C# forbids a member named like its type; rename the argument");

        public static readonly DiagnosticDescriptor KeywordName = Error(
            "WEVIS009",
            "C# keyword used as a name",
            "'{0}' is a C# keyword and cannot name a message");

        public static readonly DiagnosticDescriptor ArgumentNamedLikeRecordMember = Error(
            "WEVIS010",
            "Argument named like a record member",
            "Argument '{0}' would become property '{1}', which clashes with the member every record has; rename the argument");

        public static readonly DiagnosticDescriptor WireIdCollision = Error(
            "WEVIS011",
            "Wire id collision",
            "Messages '{0}' and '{1}' hash to the same wire id {2}; {3}");

        public static readonly DiagnosticDescriptor InvalidNamespace = Error(
            "WEVIS012",
            "Invalid namespace",
            "'{0}' is not a valid C# namespace for the messages of this file");

        public static readonly DiagnosticDescriptor RuntimeNotReferenced = Error(
            "WEVIS013",
            "Wevis.Runtime not referenced",
            "Messages are defined, but Wevis.Runtime is not referenced; add the Wevis.Runtime package");

        public static readonly DiagnosticDescriptor InvalidDirection = Error(
            "WEVIS014",
            "Invalid direction",
            "Invalid direction '{0}': {1}");

        public static readonly DiagnosticDescriptor InvalidReplies = Error(
            "WEVIS015",
            "Invalid replies",
            "The replies of '{0}' are not written as '-> Reply' or '-> Reply | OtherReply' after its arguments: {1}");

        public static readonly DiagnosticDescriptor UnknownReply = Error(
            "WEVIS016",
            "Unknown reply",
            "Reply '{0}' of request '{1}' is not a message defined in this project");

        public static readonly DiagnosticDescriptor RequestSentByServer = Error(
            "WEVIS017",
            "Request sent by the server",
            "'{0}' is a server: message, so it cannot have replies: requests are sent by clients and answered by the server");

        public static readonly DiagnosticDescriptor ReplySentByClients = Error(
            "WEVIS018",
            "Reply sent by clients",
            "'{0}' cannot answer '{1}': replies are sent by the server, but '{0}' is a client: message");

        public static readonly DiagnosticDescriptor InvalidBound = Error(
            "WEVIS019",
            "Invalid bound",
            "Invalid bound '{0}' on argument '{1}': write the type followed by a whole number from 1 to 2147483647 in parentheses, without spaces (for example {2}(32))");

        public static readonly DiagnosticDescriptor BoundOnFixedSizeType = Error(
            "WEVIS024",
            "Bound on a fixed-size type",
            "Argument '{0}' is {1}, which has a fixed size and takes no bound; bounds apply to str, bytes, ?f and ?d");

        public static readonly DiagnosticDescriptor UnknownDirective = Error(
            "WEVIS025",
            "Unknown directive",
            "Unknown directive '{0}'; the only directive is '@version N'");

        public static readonly DiagnosticDescriptor InvalidVersion = Error(
            "WEVIS026",
            "Invalid version",
            "Invalid definitions version: {0}");

        public static readonly DiagnosticDescriptor DuplicateReply = Error(
            "WEVIS027",
            "Duplicate reply",
            "'{0}' is listed twice among the replies of '{1}'");

        public static readonly DiagnosticDescriptor InvalidRootNamespace = Error(
            "WEVIS028",
            "Invalid root namespace",
            "The project's {2} '{0}' is not a valid C# namespace, and the message registry is generated in it; set <{2}> in the project file to a valid namespace (for example {1})");

        public static readonly DiagnosticDescriptor RegistryNameTaken = Error(
            "WEVIS039",
            "Registry named like a referenced assembly's",
            "The message registry would be '{0}', which referenced assembly '{1}' already defines (it has the same root namespace); set <WevisRegistryNamespace> in this project file to a namespace of its own (for example {2}); the messages keep their namespaces");

        public static readonly DiagnosticDescriptor MessageInReferencedAssembly = Error(
            "WEVIS040",
            "Message defined in a referenced assembly",
            "Message '{0}' is already defined in referenced assembly '{1}' as {2}; message names must be unique in a program: {3}");

        public static readonly DiagnosticDescriptor MessageInTwoReferencedAssemblies = Error(
            "WEVIS041",
            "Message defined in two referenced assemblies",
            "Message '{0}' is defined in referenced assemblies {1}; message names must be unique in a program (on the wire they are one message, and MessageRegistry.Default would refuse them at start-up): {2}");

        public static readonly DiagnosticDescriptor CodeMessageNotPartialRecord = Error(
            "WEVIS020",
            "Message must be a partial record",
            "'{0}' must be declared as a 'partial record' (a record class) to be a Wevis message");

        public static readonly DiagnosticDescriptor UnsupportedArgumentType = Error(
            "WEVIS021",
            "Unsupported argument type",
            "Parameter '{0}' of message '{1}' has type '{2}', which Wevis cannot send; the types are: int, long, double, bool, string, byte[], float[], double[]");

        public static readonly DiagnosticDescriptor CodeMessageShape = Error(
            "WEVIS022",
            "Unsupported message declaration",
            "Message '{0}' cannot be {1}");

        public static readonly DiagnosticDescriptor MemberNotSent = new(
            "WEVIS023",
            "Property or field is not sent",
            "{0} '{1}' of message '{2}' is not a primary constructor parameter, so it is not sent",
            Category,
            DiagnosticSeverity.Warning,
            isEnabledByDefault: true,
            helpLinkUri: HelpLink);

        public static readonly DiagnosticDescriptor PublishedMessageRemoved = Error(
            "WEVIS030",
            "Published message removed",
            "Message '{0}' is published in {1} but no longer defined; removing a published message {2}");

        public static readonly DiagnosticDescriptor PublishedMessageRenamed = Error(
            "WEVIS031",
            "Published message renamed",
            "Message '{0}' looks like published message '{1}' ({2}) renamed; renaming a published message {3}");

        public static readonly DiagnosticDescriptor ArgumentTypeChanged = Error(
            "WEVIS032",
            "Published argument's type changed",
            "Argument '{0}' of '{1}' was {2} in {3} and is now {4}; changing an argument's type {5}");

        public static readonly DiagnosticDescriptor ArgumentMoved = Error(
            "WEVIS033",
            "Published argument moved",
            "Argument '{0}' of '{1}' was argument {2} in {3} and is now argument {4}; changing the order of arguments {5}");

        public static readonly DiagnosticDescriptor ArgumentAddedOrRemoved = Error(
            "WEVIS034",
            "Published message's arguments added or removed",
            "Message '{0}' {1} argument '{2}' since {3}; adding or removing an argument {4}");

        public static readonly DiagnosticDescriptor DirectionChanged = Error(
            "WEVIS035",
            "Published message's direction changed",
            "Message '{0}' was {1} in {2} and is now {3}; changing who sends a message {4}");

        public static readonly DiagnosticDescriptor RepliesChanged = Error(
            "WEVIS036",
            "Published request's replies changed",
            "The replies of '{0}' were {1} in {2} and are now {3}; changing what answers a request {4}");

        public static readonly DiagnosticDescriptor BoundChanged = Error(
            "WEVIS037",
            "Published argument's bound changed",
            "Argument '{0}' of '{1}' was {2} in {3} and is now {4}; changing a bound {5}");

        public static readonly DiagnosticDescriptor VersionLowered = Error(
            "WEVIS038",
            "Definitions version lowered",
            "The definitions' version is {0}, lower than version {1} in {2}; a version only goes up");

        private static readonly Dictionary<string, DiagnosticDescriptor> s_byId = new()
        {
            [UnknownType.Id] = UnknownType,
            [MissingType.Id] = MissingType,
            [InvalidMessageName.Id] = InvalidMessageName,
            [InvalidArgumentName.Id] = InvalidArgumentName,
            [DuplicateMessage.Id] = DuplicateMessage,
            [DuplicateArgument.Id] = DuplicateArgument,
            [ReservedName.Id] = ReservedName,
            [ArgumentNamedLikeMessage.Id] = ArgumentNamedLikeMessage,
            [KeywordName.Id] = KeywordName,
            [ArgumentNamedLikeRecordMember.Id] = ArgumentNamedLikeRecordMember,
            [WireIdCollision.Id] = WireIdCollision,
            [InvalidNamespace.Id] = InvalidNamespace,
            [RuntimeNotReferenced.Id] = RuntimeNotReferenced,
            [InvalidDirection.Id] = InvalidDirection,
            [InvalidReplies.Id] = InvalidReplies,
            [UnknownReply.Id] = UnknownReply,
            [RequestSentByServer.Id] = RequestSentByServer,
            [ReplySentByClients.Id] = ReplySentByClients,
            [InvalidBound.Id] = InvalidBound,
            [BoundOnFixedSizeType.Id] = BoundOnFixedSizeType,
            [UnknownDirective.Id] = UnknownDirective,
            [InvalidVersion.Id] = InvalidVersion,
            [DuplicateReply.Id] = DuplicateReply,
            [InvalidRootNamespace.Id] = InvalidRootNamespace,
            [RegistryNameTaken.Id] = RegistryNameTaken,
            [MessageInReferencedAssembly.Id] = MessageInReferencedAssembly,
            [MessageInTwoReferencedAssemblies.Id] = MessageInTwoReferencedAssemblies,
            [CodeMessageNotPartialRecord.Id] = CodeMessageNotPartialRecord,
            [UnsupportedArgumentType.Id] = UnsupportedArgumentType,
            [CodeMessageShape.Id] = CodeMessageShape,
            [MemberNotSent.Id] = MemberNotSent,
            [PublishedMessageRemoved.Id] = PublishedMessageRemoved,
            [PublishedMessageRenamed.Id] = PublishedMessageRenamed,
            [ArgumentTypeChanged.Id] = ArgumentTypeChanged,
            [ArgumentMoved.Id] = ArgumentMoved,
            [ArgumentAddedOrRemoved.Id] = ArgumentAddedOrRemoved,
            [DirectionChanged.Id] = DirectionChanged,
            [RepliesChanged.Id] = RepliesChanged,
            [BoundChanged.Id] = BoundChanged,
            [VersionLowered.Id] = VersionLowered,
        };

        public static DiagnosticDescriptor ById(string id) => s_byId[id];

        private static DiagnosticDescriptor Error(string id, string title, string messageFormat) =>
            new(id, title, messageFormat, Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpLink);
    }
}
