using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Wevis.Tests.Shared;

namespace Wevis.Docs.Tests;

/// <summary>
/// The user guide (docs/guide/*.md) cannot fall behind the API: every public type of Wevis.Runtime, Wevis.Hosting and Wevis.Testing, and every public
/// or protected member of each, is named in it, the member in the same section (under one heading) as its type,
/// both in code (<c>`ServerOptions`</c> … <c>`LoginTimeout`</c>, or <c>`ServerOptions.LoginTimeout`</c>). And every
/// log event the server and the client write is in the logging page's table.
/// </summary>
public sealed partial class GuideCoverageTests
{
    private static readonly Lazy<IReadOnlyList<Section>> s_sections = new(ReadGuide);

    [Fact]
    public void EveryPublicTypeAndMemberIsNamedInTheGuide()
    {
        var missing = new List<string>();
        foreach (Type type in PublicTypes())
        {
            string name = NameOf(type);
            List<Section> sections = [.. s_sections.Value.Where(s => s.Names.Contains(name))];
            if (sections.Count == 0)
            {
                missing.Add($"{type.FullName}: the type is named nowhere in the guide");
                continue;
            }

            foreach (string member in MemberNames(type))
            {
                if (!NameTogether(sections, name, member))
                {
                    missing.Add($"{type.FullName}.{member}: not named in a section that names {name} ({string.Join(", ", sections.Select(s => s.Title))})");
                }
            }
        }

        Assert.True(missing.Count == 0, $"{missing.Count} public types or members are not in the user guide (docs/guide):\n" + string.Join('\n', missing));
    }

    [Fact]
    public void TheCheckNoticesAMemberTheGuideDoesNotName()
    {
        // The rule itself: a name in another section, or only in prose, does not count.
        Section[] sections =
        [
            new("a", ["Client", "Send"]),
            new("b", ["Stop"]),
        ];

        Assert.True(NameTogether(sections, "Client", "Send"));
        Assert.False(NameTogether(sections, "Client", "Stop"));
        Assert.Equal(["Client", "Send", "Stop", "ReceiveBlocking", "TimeSpan", "Zero"], CodeNames("`Client.Send` and ```csharp\nStop(); ReceiveBlocking(TimeSpan.Zero)\n``` but not Dispose"));
        Assert.Contains(nameof(Client.ReceiveBlocking), MemberNames(typeof(Client)));
        Assert.Contains(nameof(ServerOptions.LoginTimeout), MemberNames(typeof(ServerOptions)));
        Assert.Contains(nameof(ArgumentType.DoubleArray), MemberNames(typeof(ArgumentType)));
        Assert.DoesNotContain("ToString", MemberNames(typeof(User)));
        Assert.Contains(typeof(Room), PublicTypes());
    }

    [Fact]
    public void EveryLogEventIsInTheLoggingPage()
    {
        string page = File.ReadAllText(Repository.PathOf("docs/guide/logging.md"));
        var missing = new List<string>();
        // Every class of [LoggerMessage] methods in the runtime, wherever its layer keeps it.
        Type[] logClasses = [.. s_packages.SelectMany(a => a.GetTypes()).Where(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic).Any(m => m.IsDefined(typeof(LoggerMessageAttribute))))];
        Assert.True(logClasses.Length >= 4, $"Expected the server's, sessions', rooms' and client's log classes; found {logClasses.Length}.");
        foreach (Type type in logClasses)
        {
            foreach (MethodInfo method in type.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
            {
                if (method.GetCustomAttribute<LoggerMessageAttribute>() is { } log
                    && !Regex.IsMatch(page, $@"^\| {log.EventId} \| {log.Level} \| ", RegexOptions.Multiline))
                {
                    missing.Add($"{log.EventId} {log.Level} ({type.FullName}.{method.Name}): \"{log.Message}\"");
                }
            }
        }

        Assert.True(missing.Count == 0, "These log events are not rows '| id | level | …' of docs/guide/logging.md's table:\n" + string.Join('\n', missing));
    }

    /// <summary>Whether one of <paramref name="sections"/> names both <paramref name="type"/> and <paramref name="member"/>.</summary>
    private static bool NameTogether(IEnumerable<Section> sections, string type, string member) =>
        sections.Any(s => s.Names.Contains(type) && s.Names.Contains(member));

    /// <summary>The packages whose public API the guide covers: the runtime, the Generic Host package, the test server and the Orleans scale-out.</summary>
    private static readonly System.Reflection.Assembly[] s_packages = [typeof(Server).Assembly, typeof(Wevis.Hosting.WevisServerBuilder).Assembly, typeof(Wevis.Testing.InMemoryServer).Assembly, typeof(Wevis.Orleans.WevisClusterOptions).Assembly];

    /// <summary>The exported types of the packages.</summary>
    private static IEnumerable<Type> PublicTypes() => s_packages.SelectMany(a => a.GetExportedTypes()).OrderBy(t => t.FullName, StringComparer.Ordinal);

    /// <summary>A type's name as code names it: <c>Room</c>, <c>IMessage</c>; generic types without their arity.</summary>
    private static string NameOf(Type type) => type.Name.Split('`')[0];

    /// <summary>
    /// The names of a type's own public and protected members that the guide must name: methods, properties, fields,
    /// events and enum values; not constructors (naming the type covers them), accessors, operators, a delegate's
    /// Invoke, or overrides of <see cref="object"/>'s methods.
    /// </summary>
    private static IEnumerable<string> MemberNames(Type type)
    {
        if (type.IsSubclassOf(typeof(Delegate)))
        {
            return [];
        }

        const BindingFlags Flags = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        return type.GetMembers(Flags)
            .Where(m => m switch
            {
                MethodInfo method => (method.IsPublic || method.IsFamily || method.IsFamilyOrAssembly) && !method.IsSpecialName
                    && method.GetBaseDefinition().DeclaringType != typeof(object)
                    && method.GetCustomAttribute<System.Runtime.CompilerServices.CompilerGeneratedAttribute>() is null,
                PropertyInfo property => property.GetAccessors(nonPublic: true).Any(a => a.IsPublic || a.IsFamily || a.IsFamilyOrAssembly)
                    && property.Name != "EqualityContract",
                FieldInfo field => (field.IsPublic || field.IsFamily || field.IsFamilyOrAssembly) && !field.IsSpecialName,
                EventInfo => true,
                _ => false,
            })
            .Select(m => m.Name)
            .Distinct()
            .Order(StringComparer.Ordinal);
    }

    /// <summary>The guide's sections: the text under each heading of each page, with the names it holds in code.</summary>
    private static IReadOnlyList<Section> ReadGuide()
    {
        var sections = new List<Section>();
        foreach (string path in Directory.EnumerateFiles(Repository.PathOf("docs/guide"), "*.md"))
        {
            string title = Path.GetFileName(path);
            var text = new List<string>();
            bool inCode = false;
            foreach (string line in File.ReadLines(path).Append("# (end)"))
            {
                if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
                {
                    inCode = !inCode;
                }

                if (!inCode && HeadingPattern().IsMatch(line))
                {
                    sections.Add(new Section(title, [.. CodeNames(string.Join('\n', text))]));
                    title = $"{Path.GetFileName(path)} {line.TrimStart('#').Trim()}";
                    text.Clear();
                }
                else
                {
                    text.Add(line);
                }
            }
        }

        return sections;
    }

    /// <summary>The identifiers inside code in <paramref name="markdown"/>: inline code spans and fenced blocks.</summary>
    private static IEnumerable<string> CodeNames(string markdown) => CodePattern().Matches(markdown)
        .SelectMany(code => IdentifierPattern().Matches(code.Groups["code"].Value).Select(m => m.Value))
        .Distinct();

    [GeneratedRegex(@"^#{1,4} ")]
    private static partial Regex HeadingPattern();

    [GeneratedRegex(@"```[^\n]*\n(?<code>.*?)```|`(?<code>[^`\n]+)`", RegexOptions.Singleline)]
    private static partial Regex CodePattern();

    [GeneratedRegex(@"[A-Za-z_][A-Za-z0-9_]*")]
    private static partial Regex IdentifierPattern();

    private sealed record Section(string Title, HashSet<string> Names);
}
