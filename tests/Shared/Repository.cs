using System.Reflection;

namespace Wevis.Tests.Shared;

/// <summary>Where the repository and its build output are, for tests that run what the repository builds.</summary>
internal static class Repository
{
    /// <summary>The repository's root: the nearest folder above the tests that holds Wevis.sln.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The full path of a file in the repository, from a path relative to its root.</summary>
    public static string PathOf(string relativePath) => Path.GetFullPath(Path.Combine(Root, relativePath));

    /// <summary>The configuration the tests were built in (Debug or Release); the projects they use are built alike.</summary>
    public static string Configuration => Metadata("BuildConfiguration");

    /// <summary>The built dll of the sample project <paramref name="name"/> (samples/name/name.csproj), in the tests' configuration.</summary>
    public static string SampleDll(string name)
    {
        string path = PathOf($"samples/{name}/bin/{Configuration}/{Metadata("BuildTargetFramework")}/{name}.dll");
        Assert.True(File.Exists(path), $"{path} is not built; the test project's reference to samples/{name} should build it.");
        return path;
    }

    private static string Metadata(string key) =>
        typeof(Repository).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    private static string FindRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Wevis.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"No Wevis.sln above {AppContext.BaseDirectory}.");
    }
}
