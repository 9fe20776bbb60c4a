using System.Collections;
using System.Reflection;
using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using Wevis.Generator.Tests.Infrastructure;

namespace Wevis.Generator.Tests;

/// <summary>
/// The generator's caching: an unrelated C# edit leaves every step cached, an edit to one definitions file
/// re-parses that file alone and regenerates only what changed, and no step output holds Roslyn objects.
/// </summary>
public class IncrementalTests
{
    private static readonly string[] s_modelSteps =
    [
        TrackingNames.ParsedDefinitions,
        TrackingNames.ParsedLocks,
        TrackingNames.EvolutionCheck,
        TrackingNames.Options,
        TrackingNames.Registry,
        TrackingNames.Diagnostics,
        TrackingNames.MessagesToEmit,
        TrackingNames.RegistryToEmit,
        TrackingNames.ReferencedAssemblies,
        TrackingNames.ReferencedRegistries,
        TrackingNames.ReferenceClashes,

        // Not LocatedDiagnostics: it holds the syntax trees diagnostics are reported in (see SourceLocations), by
        // design, and only the report reads it.
    ];

    private static (GeneratorDriver Driver, CSharpCompilation Compilation) FirstRun(params DefinitionsFile[] files)
    {
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation(
            ["namespace TestApp { [Wevis.WevisMessage] public partial record Move(int X, int Y); class Program { } }"]);
        GeneratorDriver driver = GeneratorHarness.CreateDriver(files);
        GeneratorRun run = GeneratorHarness.Run(driver, compilation);
        Assert.Empty(run.GeneratorDiagnostics);
        return (run.Driver, compilation);
    }

    private static IReadOnlyList<IncrementalStepRunReason> Reasons(GeneratorDriverRunResult result, string step) =>
        result.Results.Single().TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();

    [Fact]
    public void AnUnrelatedCSharpEditLeavesEveryStepCached()
    {
        (GeneratorDriver driver, CSharpCompilation compilation) = FirstRun(
            new DefinitionsFile("/p/example.wevis", "ItIs hours=int minutes=int\nYouAre name=str"),
            new DefinitionsFile("/p/example.wevis.lock", "ItIs hours=int minutes=int"));

        CSharpCompilation edited = compilation.AddSyntaxTrees(
            CSharpSyntaxTree.ParseText("namespace TestApp { class Unrelated { int x = 1; } }", GeneratorHarness.ParseOptions()));
        GeneratorDriverRunResult result = driver.RunGenerators(edited).GetRunResult();

        Assert.All(Reasons(result, TrackingNames.ParsedDefinitions), r => Assert.Equal(IncrementalStepRunReason.Cached, r));
        Assert.All(Reasons(result, TrackingNames.ParsedLocks), r => Assert.Equal(IncrementalStepRunReason.Cached, r));
        Assert.All(Reasons(result, TrackingNames.EvolutionCheck), r => Assert.Equal(IncrementalStepRunReason.Cached, r));
        // The attribute step re-runs its semantic transform on a new compilation; its output must compare equal.
        Assert.All(Reasons(result, TrackingNames.CodeMessages), r => Assert.True(
            r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"CodeMessages was {r}"));
        foreach (string step in new[] { TrackingNames.Options, TrackingNames.Registry, TrackingNames.Diagnostics, TrackingNames.LocatedDiagnostics, TrackingNames.RegistryToEmit, TrackingNames.ReferencedAssemblies, TrackingNames.ReferencedRegistries, TrackingNames.ReferenceClashes })
        {
            Assert.All(Reasons(result, step), r => Assert.True(
                r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step} was {r}"));
        }

        Assert.All(Reasons(result, TrackingNames.MessagesToEmit), r => Assert.True(
            r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"MessagesToEmit was {r}"));
        Assert.All(
            result.Results.Single().TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"an output step was {o.Reason}"));
    }

    [Fact]
    public void EditingADefinitionsFileRegeneratesOnlyWhatChanged()
    {
        var first = new DefinitionsFile("/p/a.wevis", "ItIs hours=int minutes=int\nYouAre name=str");
        var second = new DefinitionsFile("/p/b.wevis", "Other x=int");
        (GeneratorDriver driver, CSharpCompilation compilation) = FirstRun(first, second);

        AdditionalText oldText = driver.GetRunResult().Results.Single().TrackedSteps[TrackingNames.DefinitionsFiles]
            .SelectMany(s => s.Outputs).Select(o => (AdditionalText)o.Value).Single(t => t.Path == first.Path);
        var newText = new GeneratorHarness.InMemoryAdditionalText(first.Path, "ItIs hours=int minutes=int\nYouAre name=str\nWhoAmI");
        driver = driver.ReplaceAdditionalText(oldText, newText);
        GeneratorDriverRunResult result = driver.RunGenerators(compilation).GetRunResult();

        // a.wevis is parsed again; b.wevis is not.
        Assert.Equal(
            [IncrementalStepRunReason.Modified, IncrementalStepRunReason.Cached],
            Reasons(result, TrackingNames.ParsedDefinitions).Order());
        Assert.Contains(IncrementalStepRunReason.Modified, Reasons(result, TrackingNames.Registry));
        Assert.All(Reasons(result, TrackingNames.ReferenceClashes), r => Assert.Equal(IncrementalStepRunReason.Cached, r));

        // Messages are emitted in name order and compared by position: those before the new one are unchanged,
        // so their sources are not rewritten; the new one (and any after it) are emitted.
        var emitted = result.Results.Single().TrackedSteps[TrackingNames.MessagesToEmit]
            .SelectMany(s => s.Outputs)
            .ToDictionary(o => ((Model.MessageEmitSpec)o.Value).Message.Name, o => o.Reason);
        Assert.Equal(["ItIs", "Move", "Other", "WhoAmI", "YouAre"], emitted.Keys.Order(StringComparer.Ordinal));
        Assert.All(["ItIs", "Move", "Other"], name => Assert.True(
            emitted[name] is IncrementalStepRunReason.Unchanged or IncrementalStepRunReason.Cached, $"{name} was {emitted[name]}"));
        Assert.True(emitted["WhoAmI"] is IncrementalStepRunReason.New or IncrementalStepRunReason.Modified);
        Assert.Contains("a.WhoAmI.g.cs", result.Results.Single().GeneratedSources.Select(s => s.HintName));
    }

    [Fact]
    public void TheLockFileIsAnInputTrackedOnItsOwn()
    {
        var definitions = new DefinitionsFile("/p/a.wevis", "@version 2\nclient: Ask n=int -> Answer\nserver: Answer x=long");
        var other = new DefinitionsFile("/p/b.wevis", "Other x=int");
        var published = new DefinitionsFile("/p/a.wevis.lock", "@version 2\nclient: Ask n=int -> Answer\nserver: Answer x=long");
        (GeneratorDriver driver, CSharpCompilation compilation) = FirstRun(definitions, other, published);

        // The lock file is edited (as if published before a change of type): only the comparisons run again, and the
        // new error is reported; nothing is parsed or generated again.
        AdditionalText oldLock = driver.GetRunResult().Results.Single().TrackedSteps[TrackingNames.LockFiles]
            .SelectMany(s => s.Outputs).Select(o => (AdditionalText)o.Value).Single();
        var newLock = new GeneratorHarness.InMemoryAdditionalText(published.Path, "@version 2\nclient: Ask n=int -> Answer\nserver: Answer x=int");
        driver = driver.ReplaceAdditionalText(oldLock, newLock);
        GeneratorDriverRunResult run = driver.RunGenerators(compilation).GetRunResult();
        GeneratorRunResult result = run.Results.Single();

        Assert.Equal([IncrementalStepRunReason.Modified], Reasons(run, TrackingNames.ParsedLocks));
        Assert.All(Reasons(run, TrackingNames.ParsedDefinitions), r => Assert.Equal(IncrementalStepRunReason.Cached, r));
        Assert.Contains(IncrementalStepRunReason.Modified, Reasons(run, TrackingNames.EvolutionCheck));
        foreach (string step in new[] { TrackingNames.Registry, TrackingNames.MessagesToEmit, TrackingNames.RegistryToEmit })
        {
            Assert.All(Reasons(run, step), r => Assert.Equal(IncrementalStepRunReason.Cached, r));
        }

        Diagnostic error = Assert.Single(result.Diagnostics);
        Assert.Equal("WEVIS032", error.Id);
        Assert.Equal("/p/a.wevis", error.Location.GetLineSpan().Path);
    }

    [Fact]
    public void TheCheckOfTheReferencedLibrariesRunsAgainOnlyWhenTheyChange()
    {
        // Two libraries that both define Hello: the error comes from the references alone, so neither a C# edit nor a
        // definitions edit runs the check again, and the error is reported after each.
        MetadataReference alpha = ReferencedRegistryTests.BuildLibrary("Alpha", "Alpha", "Hello name=str").Reference;
        MetadataReference beta = ReferencedRegistryTests.BuildLibrary("Beta", "Beta", "Hello name=str").Reference;
        var definitions = new DefinitionsFile("/p/a.wevis", "ItIs hours=int");
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation(["namespace TestApp { class Program { } }"], extraReferences: [alpha, beta]);
        GeneratorRun first = GeneratorHarness.Run(GeneratorHarness.CreateDriver([definitions]), compilation);
        Assert.Equal("WEVIS041", Assert.Single(first.GeneratorDiagnostics).Id);

        CSharpCompilation edited = compilation.AddSyntaxTrees(
            CSharpSyntaxTree.ParseText("namespace TestApp { class Unrelated { } }", GeneratorHarness.ParseOptions()));
        GeneratorDriver driver = first.Driver.RunGenerators(edited);
        GeneratorRunResult afterCSharpEdit = driver.GetRunResult().Results.Single();
        Assert.All(Reasons(driver.GetRunResult(), TrackingNames.ReferencedAssemblies), r => Assert.Equal(IncrementalStepRunReason.Unchanged, r));
        Assert.All(Reasons(driver.GetRunResult(), TrackingNames.ReferenceClashes), r => Assert.Equal(IncrementalStepRunReason.Cached, r));
        Assert.Equal("WEVIS041", Assert.Single(afterCSharpEdit.Diagnostics).Id);

        AdditionalText oldText = afterCSharpEdit.TrackedSteps[TrackingNames.DefinitionsFiles].SelectMany(s => s.Outputs).Select(o => (AdditionalText)o.Value).Single();
        driver = driver.ReplaceAdditionalText(oldText, new GeneratorHarness.InMemoryAdditionalText(definitions.Path, "ItIs hours=int\nYouAre name=str"));
        driver = driver.RunGenerators(edited);
        Assert.All(Reasons(driver.GetRunResult(), TrackingNames.ReferenceClashes), r => Assert.Equal(IncrementalStepRunReason.Cached, r));
        Assert.Equal("WEVIS041", Assert.Single(driver.GetRunResult().Results.Single().Diagnostics).Id);

        // A reference removed: the check runs again, and the error is gone.
        driver = driver.RunGenerators(edited.RemoveReferences(beta));
        Assert.All(Reasons(driver.GetRunResult(), TrackingNames.ReferenceClashes), r => Assert.Equal(IncrementalStepRunReason.Modified, r));
        Assert.Empty(driver.GetRunResult().Results.Single().Diagnostics);
    }

    [Fact]
    public void NoStepOutputHoldsASymbolSyntaxOrCompilation()
    {
        (GeneratorDriver driver, _) = FirstRun(
            new DefinitionsFile("/p/example.wevis", File.ReadAllText("example.wevis")),
            new DefinitionsFile("/p/lobby.wevis", File.ReadAllText("lobby.wevis")),
            new DefinitionsFile("/p/lobby.wevis.lock", File.ReadAllText("lobby.wevis")));
        GeneratorRunResult result = driver.GetRunResult().Results.Single();

        // Our named steps only: Roslyn's own steps inside ForAttributeWithMetadataName hold syntax by design.
        foreach ((string step, var runs) in result.TrackedSteps.Where(s => s_modelSteps.Contains(s.Key)))
        {
            foreach ((object value, _) in runs.SelectMany(r => r.Outputs))
            {
                AssertHoldsNoRoslynObjects(value, step, new HashSet<object>(ReferenceEqualityComparer.Instance));
            }
        }

        Assert.All(s_modelSteps, step => Assert.True(result.TrackedSteps.ContainsKey(step), $"step {step} is not tracked"));
    }

    private static void AssertHoldsNoRoslynObjects(object? value, string path, HashSet<object> visited)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum || !visited.Add(value))
        {
            return;
        }

        Assert.False(
            value is ISymbol or SyntaxNode or SyntaxTree or Compilation or SemanticModel or Location,
            $"{path} holds a {value.GetType().Name}, which defeats caching");

        Type type = value.GetType();
        if (value is ITuple tuple)
        {
            for (int i = 0; i < tuple.Length; i++)
            {
                AssertHoldsNoRoslynObjects(tuple[i], $"{path}.Item{i + 1}", visited);
            }
        }
        else if (value is IEnumerable items)
        {
            int i = 0;
            foreach (object? item in items)
            {
                AssertHoldsNoRoslynObjects(item, $"{path}[{i++}]", visited);
            }
        }
        else if (type.Namespace == "Wevis.Generator.Model")
        {
            foreach (PropertyInfo property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0))
            {
                AssertHoldsNoRoslynObjects(property.GetValue(value), $"{path}.{property.Name}", visited);
            }
        }
    }
}
