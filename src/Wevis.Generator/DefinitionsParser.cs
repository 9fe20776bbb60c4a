using System.Collections.Generic;
using System.IO;
using System.Threading;
using Microsoft.CodeAnalysis.Text;
using Wevis.Generator.Model;

namespace Wevis.Generator
{
    /// <summary>
    /// Parses one <c>.wevis</c> definitions file into a <see cref="DefinitionsFileSpec"/>. It knows nothing of
    /// emitting: it only reads lines, checks names and types, and records diagnostics with exact spans.
    /// </summary>
    /// <remarks>
    /// The language: one message per line, <c>Name arg=type arg=type …</c>; <c>#</c> starts a comment anywhere
    /// on a line; blank lines are ignored. See docs/definitions.md.
    /// </remarks>
    internal static class DefinitionsParser
    {
        public static DefinitionsFileSpec Parse(
            SourceText text, string filePath, string @namespace, bool allowReservedNames, CancellationToken cancellationToken)
        {
            var messages = new List<MessageSpec>();
            var diagnostics = new List<DiagnosticInfo>();
            var firstDefinitions = new Dictionary<string, LocationInfo>();
            string fileName = Path.GetFileName(filePath);

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
            }

            return new DefinitionsFileSpec(filePath, messages.ToImmutableEquatableArray(), diagnostics.ToImmutableEquatableArray());
        }

        /// <summary>"file.wevis line 3", for messages that point at another definition.</summary>
        public static string Describe(LocationInfo location) =>
            $"{Path.GetFileName(location.FilePath)} line {location.StartLine + 1}";

        /// <summary>
        /// Parses one non-empty line. Returns null when the name itself is unusable; returns a spec with a
        /// negative wire id when the name is fine but an argument is not, so duplicate names are still caught.
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
            Token nameToken = tokens[0];
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

            var arguments = new List<ArgumentSpec>();
            var propertyNames = new HashSet<string>();
            for (int i = 1; i < tokens.Count; i++)
            {
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

            var definition = new System.Text.StringBuilder(name);
            foreach (ArgumentSpec argument in arguments)
            {
                definition.Append(' ').Append(argument.Name).Append('=').Append(WireNames.Keyword(argument.Type));
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
                definition.ToString(),
                nameLocation);
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
            string typeKeyword = token.Text.Substring(equals + 1);
            var nameSpan = new TextSpan(token.Span.Start, equals);
            var typeSpan = new TextSpan(token.Span.Start + equals + 1, typeKeyword.Length);

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
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnknownType, Locate(text, filePath, typeSpan), typeKeyword, argumentName));
                return null;
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

            return new ArgumentSpec(argumentName, propertyName, type);
        }

        private static LocationInfo Locate(SourceText text, string filePath, TextSpan span) =>
            LocationInfo.From(filePath, span, text.Lines.GetLinePositionSpan(span));

        /// <summary>Splits a line into whitespace-separated tokens, stopping at the first '#'.</summary>
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
                while (i < content.Length && !char.IsWhiteSpace(content[i]) && content[i] != '#')
                {
                    i++;
                }

                tokens.Add(new Token(content.Substring(start, i - start), new TextSpan(line.Start + start, i - start)));
            }

            return tokens;
        }

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
    }
}
