using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis.Text;
using Wevis.Generator.Model;

namespace Wevis.Generator
{
    /// <summary>
    /// Parses one <c>.wevis</c> definitions file (or its lock file, which has the same form) into a
    /// <see cref="DefinitionsFileSpec"/>. It knows nothing of emitting: it only reads lines, checks names and types,
    /// and records diagnostics with exact spans.
    /// </summary>
    /// <remarks>
    /// The language (docs/definitions.md): one message per line,
    /// <c>[client: | server:] Name arg=type[(bound)] … [-&gt; Reply [| Reply …]]</c>; a line <c>@version N</c>;
    /// <c>#</c> starts a comment anywhere on a line; blank lines are ignored.
    /// </remarks>
    internal static class DefinitionsParser
    {
        /// <summary>The one directive: <c>@version N</c> declares the definitions' version.</summary>
        public const string VersionDirective = "@version";

        private const string Arrow = "->";
        private const string Bar = "|";

        public static DefinitionsFileSpec Parse(
            SourceText text, string filePath, string @namespace, bool allowReservedNames, CancellationToken cancellationToken)
        {
            var messages = new List<MessageSpec>();
            var diagnostics = new List<DiagnosticInfo>();
            var firstDefinitions = new Dictionary<string, LocationInfo>();
            var failedNames = new List<string>();
            string fileName = Path.GetFileName(filePath);
            var version = new VersionDeclaration();

            if (@namespace.Length > 0 && !WireNames.IsValidNamespace(@namespace))
            {
                var start = LocationInfo.From(filePath, default, default);
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidNamespace, start, @namespace));
                return new DefinitionsFileSpec(filePath, ImmutableEquatableArray<MessageSpec>.Empty, diagnostics.ToImmutableEquatableArray());
            }

            foreach (TextLine line in text.Lines)
            {
                cancellationToken.ThrowIfCancellationRequested();
                List<Token> tokens = Tokenize(text, line);
                if (tokens.Count == 0)
                {
                    continue;
                }

                if (tokens[0].Text[0] == '@')
                {
                    ParseDirective(text, filePath, line, tokens, version, diagnostics);
                    continue;
                }

                MessageSpec? message = ParseMessage(text, filePath, fileName, line, tokens, @namespace, allowReservedNames, diagnostics);
                if (message is null)
                {
                    continue;
                }

                if (firstDefinitions.TryGetValue(message.Name, out LocationInfo? first))
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.DuplicateMessage, message.NameLocation, first, message.Name, Describe(first)));
                    continue;
                }

                firstDefinitions.Add(message.Name, message.NameLocation);
                if (message.WireId >= 0)
                {
                    messages.Add(message);
                }
                else
                {
                    failedNames.Add(message.Name);
                }
            }

            if (version.Value != 0)
            {
                // The version covers the whole file, lines above the directive included.
                for (int i = 0; i < messages.Count; i++)
                {
                    messages[i] = messages[i] with { DefinitionsVersion = version.Value };
                }
            }

            return new DefinitionsFileSpec(
                filePath,
                messages.ToImmutableEquatableArray(),
                diagnostics.ToImmutableEquatableArray(),
                version.Value,
                version.Location,
                failedNames.ToImmutableEquatableArray());
        }

        /// <summary>"file.wevis line 3", for messages that point at another definition.</summary>
        public static string Describe(LocationInfo location) =>
            $"{Path.GetFileName(location.FilePath)} line {location.StartLine + 1}";

        /// <summary>The direction as a definitions line starts with it: <c>client: </c>, <c>server: </c> or nothing.</summary>
        public static string DirectionPrefix(Direction direction) => direction switch
        {
            Direction.ClientToServer => "client: ",
            Direction.ServerToClient => "server: ",
            _ => string.Empty,
        };

        /// <summary>A message's definition in its normal form: <c>client: Join room=str(32) -&gt; Joined | Full</c>.</summary>
        public static string DefinitionText(string name, Direction direction, IEnumerable<ArgumentSpec> arguments, IEnumerable<ReplySpec> replies)
        {
            var definition = new StringBuilder(DirectionPrefix(direction)).Append(name);
            foreach (ArgumentSpec argument in arguments)
            {
                definition.Append(' ').Append(argument.Name).Append('=').Append(WireNames.TypeText(argument.Type, argument.Bound));
            }

            string separator = " -> ";
            foreach (ReplySpec reply in replies)
            {
                definition.Append(separator).Append(reply.Name);
                separator = " | ";
            }

            return definition.ToString();
        }

        /// <summary>Reads <c>@version N</c>; anything else starting with <c>@</c> is an error.</summary>
        private static void ParseDirective(
            SourceText text, string filePath, TextLine line, List<Token> tokens, VersionDeclaration version, List<DiagnosticInfo> diagnostics)
        {
            Token directive = tokens[0];
            if (directive.Text != VersionDirective)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnknownDirective, Locate(text, filePath, directive.Span), directive.Text));
                return;
            }

            if (tokens.Count != 2)
            {
                TextSpan span = tokens.Count == 1 ? directive.Span : tokens[2].Span;
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.InvalidVersion, Locate(text, filePath, span), "write '@version N', with N a whole number from 1 to 2147483647"));
                return;
            }

            Token number = tokens[1];
            LocationInfo location = Locate(text, filePath, number.Span);
            if (!int.TryParse(number.Text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value < 1)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.InvalidVersion, location, $"'{number.Text}' is not a whole number from 1 to 2147483647"));
                return;
            }

            if (version.Value != 0)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.InvalidVersion, location, version.Location!, $"the version is already declared on line {version.Line}"));
                return;
            }

            version.Value = value;
            version.Location = location;
            version.Line = line.LineNumber + 1;
        }

        /// <summary>
        /// Parses one message line. Returns null when the name itself is unusable; returns a spec with a negative
        /// wire id when the name is fine but something else is not, so duplicate names are still caught.
        /// </summary>
        private static MessageSpec? ParseMessage(
            SourceText text,
            string filePath,
            string fileName,
            TextLine line,
            List<Token> tokens,
            string @namespace,
            bool allowReservedNames,
            List<DiagnosticInfo> diagnostics)
        {
            int index = 0;
            Direction direction = Direction.Both;
            LocationInfo? directionLocation = null;
            if (tokens[0].Text.EndsWith(":", System.StringComparison.Ordinal))
            {
                Token marker = tokens[0];
                directionLocation = Locate(text, filePath, marker.Span);
                switch (marker.Text)
                {
                    case "client:":
                        direction = Direction.ClientToServer;
                        break;
                    case "server:":
                        direction = Direction.ServerToClient;
                        break;
                    default:
                        diagnostics.Add(DiagnosticInfo.Create(
                            DiagnosticDescriptors.InvalidDirection,
                            directionLocation,
                            marker.Text,
                            "start a line with client: (for a message clients send) or server: (for one the server sends), or with neither (for one sent both ways)"));
                        return null;
                }

                if (tokens.Count == 1)
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.InvalidDirection, directionLocation, marker.Text, "the message it applies to must follow it on the same line"));
                    return null;
                }

                index = 1;
            }

            Token nameToken = tokens[index];
            LocationInfo nameLocation = Locate(text, filePath, nameToken.Span);
            string name = nameToken.Text;
            bool hasErrors = false;

            if (!WireNames.IsValidMessageName(name))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidMessageName, nameLocation, name));
                return null;
            }

            string typeName = name;
            if (name[0] == '_')
            {
                if (!allowReservedNames)
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.ReservedName, nameLocation, name, "names starting with '_' belong to the Wevis protocol"));
                    return null;
                }

                typeName = name.TrimStart('_');
                if (typeName.Length == 0 || !WireNames.IsValidArgumentName(typeName))
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidMessageName, nameLocation, name));
                    return null;
                }
            }

            if (WireNames.IsCSharpKeyword(typeName))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.KeywordName, nameLocation, typeName));
                return null;
            }

            if (typeName == WireNames.RegistryClassName)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.ReservedName, nameLocation, name, "it is the name of the generated registry class"));
                return null;
            }

            int arrow = tokens.FindIndex(index + 1, t => t.Text == Arrow);
            int argumentsEnd = arrow < 0 ? tokens.Count : arrow;
            var arguments = new List<ArgumentSpec>();
            var propertyNames = new HashSet<string>();
            for (int i = index + 1; i < argumentsEnd; i++)
            {
                if (tokens[i].Text == Bar)
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.InvalidReplies, Locate(text, filePath, tokens[i].Span), name, "'|' separates replies, which follow '->'"));
                    hasErrors = true;
                    break;
                }

                ArgumentSpec? argument = ParseArgument(text, filePath, tokens[i], typeName, propertyNames, diagnostics);
                if (argument is null)
                {
                    hasErrors = true;
                }
                else
                {
                    arguments.Add(argument);
                }
            }

            var replies = new List<ReplySpec>();
            LocationInfo? repliesLocation = null;
            if (arrow >= 0)
            {
                repliesLocation = Locate(text, filePath, tokens[arrow].Span);
                hasErrors |= !ParseReplies(text, filePath, tokens, arrow, name, replies, diagnostics);
                if (direction == Direction.ServerToClient)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.RequestSentByServer, repliesLocation, name));
                    hasErrors = true;
                }
            }

            return new MessageSpec(
                name,
                typeName,
                @namespace,
                hasErrors ? -1 : WireNames.WireId(name),
                arguments.ToImmutableEquatableArray(),
                MessageOrigin.DefinitionsFile,
                fileName,
                line.LineNumber + 1,
                DefinitionText(name, direction, arguments, replies),
                nameLocation,
                direction,
                directionLocation,
                replies.ToImmutableEquatableArray(),
                repliesLocation,
                0);
        }

        /// <summary>Reads <c>-&gt; Reply | Reply …</c> from the arrow at <paramref name="arrow"/> to the end of the line; false if it is not well formed.</summary>
        private static bool ParseReplies(
            SourceText text, string filePath, List<Token> tokens, int arrow, string request, List<ReplySpec> replies, List<DiagnosticInfo> diagnostics)
        {
            if (arrow == tokens.Count - 1)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.InvalidReplies, Locate(text, filePath, tokens[arrow].Span), request, "no reply follows '->'"));
                return false;
            }

            var seen = new HashSet<string>();
            bool expectName = true;
            bool valid = true;
            for (int i = arrow + 1; i < tokens.Count; i++)
            {
                Token token = tokens[i];
                LocationInfo location = Locate(text, filePath, token.Span);
                string? problem = null;
                if (expectName)
                {
                    if (token.Text is Bar or Arrow)
                    {
                        problem = $"a reply's name belongs where '{token.Text}' is";
                    }
                    else if (token.Text.IndexOf('=') >= 0)
                    {
                        problem = $"'{token.Text}' is an argument, and arguments come before '->'";
                    }
                    else if (!WireNames.IsValidMessageName(token.Text))
                    {
                        problem = $"'{token.Text}' is not a message name";
                    }
                    else if (!seen.Add(token.Text))
                    {
                        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateReply, location, token.Text, request));
                        valid = false;
                    }
                    else
                    {
                        replies.Add(new ReplySpec(token.Text, null, location));
                    }
                }
                else if (token.Text != Bar)
                {
                    problem = $"separate replies with '|' (found '{token.Text}')";
                }

                if (problem is not null)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidReplies, location, request, problem));
                    return false;
                }

                expectName = !expectName;
            }

            if (expectName)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.InvalidReplies, Locate(text, filePath, tokens[tokens.Count - 1].Span), request, "a reply's name must follow '|'"));
                return false;
            }

            return valid;
        }

        private static ArgumentSpec? ParseArgument(
            SourceText text, string filePath, Token token, string typeName, HashSet<string> propertyNames, List<DiagnosticInfo> diagnostics)
        {
            int equals = token.Text.IndexOf('=');
            if (equals < 0)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MissingType, Locate(text, filePath, token.Span), token.Text));
                return null;
            }

            string argumentName = token.Text.Substring(0, equals);
            string typeText = token.Text.Substring(equals + 1);
            int paren = typeText.IndexOf('(');
            string typeKeyword = paren < 0 ? typeText : typeText.Substring(0, paren);
            var nameSpan = new TextSpan(token.Span.Start, equals);
            var typeSpan = new TextSpan(token.Span.Start + equals + 1, typeText.Length);
            var keywordSpan = new TextSpan(typeSpan.Start, typeKeyword.Length);

            if (!WireNames.IsValidArgumentName(argumentName))
            {
                // An empty name ("=int") has no characters to point at: point at the '=' instead.
                TextSpan span = argumentName.Length == 0 ? new TextSpan(token.Span.Start, 1) : nameSpan;
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidArgumentName, Locate(text, filePath, span), argumentName));
                return null;
            }

            if (typeKeyword.Length == 0)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MissingType, Locate(text, filePath, token.Span), argumentName));
                return null;
            }

            if (!WireNames.TryGetType(typeKeyword, out WireType type))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnknownType, Locate(text, filePath, keywordSpan), typeKeyword, argumentName));
                return null;
            }

            int bound = 0;
            if (paren >= 0)
            {
                string boundText = typeText.Substring(paren);
                LocationInfo boundLocation = Locate(text, filePath, new TextSpan(keywordSpan.End, boundText.Length));
                if (boundText.Length < 3
                    || boundText[boundText.Length - 1] != ')'
                    || !int.TryParse(boundText.Substring(1, boundText.Length - 2), NumberStyles.None, CultureInfo.InvariantCulture, out bound)
                    || bound < 1)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidBound, boundLocation, boundText, argumentName, typeKeyword));
                    return null;
                }

                if (!WireNames.IsReference(type))
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.BoundOnFixedSizeType, boundLocation, argumentName, typeKeyword));
                    return null;
                }
            }

            string propertyName = WireNames.ToPropertyName(argumentName);
            LocationInfo nameLocation = Locate(text, filePath, nameSpan);
            if (!propertyNames.Add(propertyName))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateArgument, nameLocation, argumentName, typeName, propertyName));
                return null;
            }

            if (propertyName == typeName)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ArgumentNamedLikeMessage, nameLocation, argumentName, propertyName));
                return null;
            }

            if (WireNames.IsRecordMemberName(propertyName))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ArgumentNamedLikeRecordMember, nameLocation, argumentName, propertyName));
                return null;
            }

            return new ArgumentSpec(argumentName, propertyName, type, bound, nameLocation, Locate(text, filePath, typeSpan));
        }

        private static LocationInfo Locate(SourceText text, string filePath, TextSpan span) =>
            LocationInfo.From(filePath, span, text.Lines.GetLinePositionSpan(span));

        /// <summary>
        /// Splits a line into tokens, stopping at the first '#'. Whitespace separates tokens; besides, '|' and '-&gt;'
        /// are tokens of their own, and a ':' ends a token, so <c>client:Hello-&gt;Hi|Bye</c> reads as
        /// <c>client: Hello -&gt; Hi | Bye</c>.
        /// </summary>
        private static List<Token> Tokenize(SourceText text, TextLine line)
        {
            var tokens = new List<Token>();
            string content = text.ToString(line.Span);
            int i = 0;
            while (i < content.Length)
            {
                char c = content[i];
                if (c == '#')
                {
                    break;
                }

                if (char.IsWhiteSpace(c))
                {
                    i++;
                    continue;
                }

                int start = i;
                if (c == '|' || IsArrowAt(content, i))
                {
                    i += c == '|' ? 1 : 2;
                }
                else
                {
                    while (i < content.Length && !char.IsWhiteSpace(content[i]) && content[i] != '#' && content[i] != '|' && !IsArrowAt(content, i))
                    {
                        i++;
                        if (content[i - 1] == ':')
                        {
                            break;
                        }
                    }
                }

                tokens.Add(new Token(content.Substring(start, i - start), new TextSpan(line.Start + start, i - start)));
            }

            return tokens;
        }

        private static bool IsArrowAt(string content, int i) => content[i] == '-' && i + 1 < content.Length && content[i + 1] == '>';

        private readonly struct Token
        {
            public Token(string text, TextSpan span)
            {
                Text = text;
                Span = span;
            }

            public string Text { get; }

            public TextSpan Span { get; }
        }

        /// <summary>The file's <c>@version</c>, once read.</summary>
        private sealed class VersionDeclaration
        {
            public int Value { get; set; }

            public LocationInfo? Location { get; set; }

            public int Line { get; set; }
        }
    }
}
