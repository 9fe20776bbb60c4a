using System.Reflection;
using System.Text.RegularExpressions;

namespace Wevis.Runtime.Tests.Reliability;

/// <summary>
/// Keeps docs/reliability.md true: every row of its tables of policies and promises names the tests that hold it
/// (a "Held by" column of <c>`Class.Method`</c> names), and every name is a test in this assembly. A policy added
/// without a test, or a test renamed or removed from under its policy, fails here.
/// </summary>
public partial class PolicyTableTests
{
    private static readonly string s_document = Repository.PathOf("docs/reliability.md");

    /// <summary>Every test method in this assembly, as Class.Method.</summary>
    private static readonly HashSet<string> s_tests = [.. typeof(PolicyTableTests).Assembly.GetTypes()
        .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Where(m => m.GetCustomAttribute<FactAttribute>() is not null)
            .Select(m => $"{t.Name}.{m.Name}"))];

    [Fact]
    public void ThePolicyTableAndThePromiseTableEachHaveAHeldByColumn()
    {
        List<Table> tables = Tables(File.ReadAllLines(s_document));

        Assert.Contains(tables, t => t.Heading == "The policies, with their defaults" && t.HeldBy >= 0);
        Assert.Contains(tables, t => t.Heading == "The other promises, and the tests that hold them" && t.HeldBy >= 0);
    }

    [Fact]
    public void EveryRowOfAPolicyTableNamesTestsThatExist()
    {
        var problems = new List<string>();
        int rows = 0;
        foreach (Table table in Tables(File.ReadAllLines(s_document)).Where(t => t.HeldBy >= 0))
        {
            foreach ((int line, string[] cells) in table.Rows)
            {
                rows++;
                string[] named = [.. TestName().Matches(cells.ElementAtOrDefault(table.HeldBy) ?? string.Empty).Select(m => m.Groups["name"].Value)];
                if (named.Length == 0)
                {
                    problems.Add($"docs/reliability.md:{line}: \"{cells[0]}\" names no test that holds it");
                }

                problems.AddRange(named.Where(n => !s_tests.Contains(n)).Select(n => $"docs/reliability.md:{line}: \"{cells[0]}\" names {n}, which is not a test in {typeof(PolicyTableTests).Assembly.GetName().Name}"));
            }
        }

        Assert.True(rows > 0, "docs/reliability.md has no table with a \"Held by\" column");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void TheCheckFindsARowWithoutATestAndANameThatIsNoTest()
    {
        string[] document =
        [
            "## The policies, with their defaults",
            "| What | Setting | Held by |",
            "|---|---|---|",
            "| A | `X` | `PolicyTableTests.TheCheckFindsARowWithoutATestAndANameThatIsNoTest` |",
            "| B | `Y` | |",
            "| C | `Z` | `PolicyTableTests.NoSuchTest` |",
        ];

        Table table = Assert.Single(Tables(document));
        string[][] named = [.. table.Rows.Select(r => TestName().Matches(r.Cells[table.HeldBy]).Select(m => m.Groups["name"].Value).ToArray())];

        Assert.Equal("The policies, with their defaults", table.Heading);
        Assert.Equal(3, table.Rows.Count);
        Assert.Contains(Assert.Single(named[0]), s_tests);
        Assert.Empty(named[1]);
        Assert.DoesNotContain(Assert.Single(named[2]), s_tests);
    }

    /// <summary>The markdown tables of a document, each with the heading above it and the index of its "Held by" column (-1: none).</summary>
    private static List<Table> Tables(string[] lines)
    {
        var tables = new List<Table>();
        string heading = string.Empty;
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].StartsWith('#'))
            {
                heading = lines[i].TrimStart('#').Trim();
                continue;
            }

            if (!lines[i].StartsWith('|') || i + 1 >= lines.Length || !lines[i + 1].StartsWith("|---", StringComparison.Ordinal))
            {
                continue;
            }

            string[] header = Cells(lines[i]);
            var rows = new List<(int Line, string[] Cells)>();
            for (i += 2; i < lines.Length && lines[i].StartsWith('|'); i++)
            {
                rows.Add((i + 1, Cells(lines[i])));
            }

            tables.Add(new Table(heading, Array.IndexOf(header, "Held by"), rows));
        }

        return tables;
    }

    private static string[] Cells(string row) => [.. row.Trim().Trim('|').Split('|').Select(c => c.Trim())];

    [GeneratedRegex(@"`(?<name>[A-Za-z]\w*Tests\.[A-Za-z]\w*)`")]
    private static partial Regex TestName();

    private sealed record Table(string Heading, int HeldBy, List<(int Line, string[] Cells)> Rows);
}
