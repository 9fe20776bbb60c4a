using System.Collections.Generic;
using System.Text;
using Microsoft.CodeAnalysis.CSharp;
using Wevis.Generator.Model;

namespace Wevis.Generator
{
    /// <summary>The naming rules shared by the definitions parser and the code-message parser.</summary>
    internal static class WireNames
    {
        /// <summary>The name of the generated registry class, which no message may take.</summary>
        public const string RegistryClassName = "WevisRegistry";

        /// <summary>Members every record has: an argument property with one of these names would not compile.</summary>
        private static readonly HashSet<string> s_recordMemberNames = new()
        {
            "Equals", "GetHashCode", "ToString", "Deconstruct", "EqualityContract", "PrintMembers",
            "GetType", "MemberwiseClone", "Finalize", "ReferenceEquals",
        };

        /// <summary>Keywords newer than the Roslyn the generator is built against (4.8).</summary>
        private static readonly HashSet<string> s_newerKeywords = new() { "field", "extension", "allows" };

        private static readonly Dictionary<string, WireType> s_typesByKeyword = new()
        {
            ["int"] = WireType.Int32,
            ["long"] = WireType.Int64,
            ["float"] = WireType.Double,
            ["bool"] = WireType.Boolean,
            ["str"] = WireType.String,
            ["bytes"] = WireType.Bytes,
            ["?f"] = WireType.SingleArray,
            ["?d"] = WireType.DoubleArray,
        };

        public static bool TryGetType(string keyword, out WireType type) => s_typesByKeyword.TryGetValue(keyword, out type);

        public static string Keyword(WireType type) => type switch
        {
            WireType.Int32 => "int",
            WireType.Int64 => "long",
            WireType.Double => "float",
            WireType.Boolean => "bool",
            WireType.String => "str",
            WireType.Bytes => "bytes",
            WireType.SingleArray => "?f",
            _ => "?d",
        };

        /// <summary>The type as a definitions file writes it, with its bound if it has one: <c>str(32)</c>.</summary>
        public static string TypeText(WireType type, int bound) =>
            bound > 0 ? Keyword(type) + "(" + bound.ToString(System.Globalization.CultureInfo.InvariantCulture) + ")" : Keyword(type);

        public static string CSharpType(WireType type) => type switch
        {
            WireType.Int32 => "int",
            WireType.Int64 => "long",
            WireType.Double => "double",
            WireType.Boolean => "bool",
            WireType.String => "string",
            WireType.Bytes => "byte[]",
            WireType.SingleArray => "float[]",
            _ => "double[]",
        };

        public static bool IsReference(WireType type) => type >= WireType.String;

        public static bool IsArray(WireType type) => type >= WireType.Bytes;

        /// <summary>Message names: an ASCII letter or '_', then ASCII letters, digits or '_'.</summary>
        public static bool IsValidMessageName(string name) => IsIdentifier(name, allowLeadingUnderscore: true);

        /// <summary>Argument names: an ASCII letter, then ASCII letters, digits or '_'.</summary>
        public static bool IsValidArgumentName(string name) => IsIdentifier(name, allowLeadingUnderscore: false);

        public static bool IsCSharpKeyword(string name) =>
            SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None
            || SyntaxFacts.GetContextualKeywordKind(name) != SyntaxKind.None
            || s_newerKeywords.Contains(name);

        public static bool IsRecordMemberName(string propertyName) => s_recordMemberNames.Contains(propertyName);

        /// <summary>
        /// The C# property name for an argument: snake_case and camelCase become PascalCase
        /// (<c>hours_left</c> and <c>hoursLeft</c> both give <c>HoursLeft</c>).
        /// </summary>
        public static string ToPropertyName(string argumentName)
        {
            var builder = new StringBuilder(argumentName.Length);
            bool upperNext = true;
            foreach (char c in argumentName)
            {
                if (c == '_')
                {
                    upperNext = true;
                    continue;
                }

                builder.Append(upperNext ? char.ToUpperInvariant(c) : c);
                upperNext = false;
            }

            return builder.ToString();
        }

        /// <summary>
        /// The wire id of a message: 32-bit FNV-1a of its UTF-8 name with the sign bit cleared. It depends on
        /// the name alone, so every program built from the same definitions agrees, whatever the order of
        /// files and lines; docs/protocol.md gives the same algorithm for other languages.
        /// </summary>
        public static int WireId(string name)
        {
            uint hash = 2166136261;
            foreach (byte b in Encoding.UTF8.GetBytes(name))
            {
                hash ^= b;
                hash = unchecked(hash * 16777619);
            }

            return (int)(hash & 0x7FFFFFFF);
        }

        /// <summary>A namespace written in project metadata: dotted identifiers, none a keyword.</summary>
        public static bool IsValidNamespace(string value)
        {
            foreach (string part in value.Split('.'))
            {
                if (!SyntaxFacts.IsValidIdentifier(part) || SyntaxFacts.GetKeywordKind(part) != SyntaxKind.None)
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>The registry class generated in <paramref name="registryNamespace"/>, fully qualified (<c>global::Game.WevisRegistry</c>).</summary>
        public static string RegistryTypeName(string registryNamespace) =>
            (registryNamespace.Length == 0 ? "global::" : "global::" + registryNamespace + ".") + RegistryClassName;

        /// <summary>Whether the project's root namespace can hold generated code: empty (the global namespace) or a valid namespace.</summary>
        public static bool IsValidRootNamespace(string value) => value.Length == 0 || IsValidNamespace(value);

        /// <summary>
        /// A valid namespace close to <paramref name="value"/>, for an error's advice: what is not a letter, digit or
        /// <c>_</c> becomes <c>_</c>, and a part that starts with a digit or is a keyword gets a leading <c>_</c>
        /// (<c>my-game</c> gives <c>my_game</c>).
        /// </summary>
        public static string SuggestNamespace(string value)
        {
            var parts = new List<string>();
            foreach (string part in value.Split('.'))
            {
                var text = new StringBuilder(part.Length + 1);
                foreach (char c in part)
                {
                    text.Append(char.IsLetterOrDigit(c) || c == '_' ? c : '_');
                }

                string name = text.ToString();
                if (name.Length == 0 || char.IsDigit(name[0]) || SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None)
                {
                    name = "_" + name;
                }

                parts.Add(name);
            }

            string suggestion = string.Join(".", parts);
            return IsValidNamespace(suggestion) ? suggestion : "MyProject";
        }

        private static bool IsIdentifier(string name, bool allowLeadingUnderscore)
        {
            if (name.Length == 0)
            {
                return false;
            }

            char first = name[0];
            if (!(IsAsciiLetter(first) || (allowLeadingUnderscore && first == '_')))
            {
                return false;
            }

            for (int i = 1; i < name.Length; i++)
            {
                char c = name[i];
                if (!(IsAsciiLetter(c) || (c >= '0' && c <= '9') || c == '_'))
                {
                    return false;
                }
            }

            return true;
        }

        private static bool IsAsciiLetter(char c) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }
}
