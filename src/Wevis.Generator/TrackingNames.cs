namespace Wevis.Generator
{
    /// <summary>Names of the pipeline's steps, so tests can check which steps were cached after an edit.</summary>
    internal static class TrackingNames
    {
        public const string DefinitionsFiles = nameof(DefinitionsFiles);
        public const string ParsedDefinitions = nameof(ParsedDefinitions);
        public const string LockFiles = nameof(LockFiles);
        public const string ParsedLocks = nameof(ParsedLocks);
        public const string EvolutionCheck = nameof(EvolutionCheck);
        public const string CodeMessages = nameof(CodeMessages);
        public const string Options = nameof(Options);
        public const string Registry = nameof(Registry);
        public const string Diagnostics = nameof(Diagnostics);
        public const string LocatedDiagnostics = nameof(LocatedDiagnostics);
        public const string MessagesToEmit = nameof(MessagesToEmit);
        public const string RegistryToEmit = nameof(RegistryToEmit);
        public const string ReferencedAssemblies = nameof(ReferencedAssemblies);
        public const string ReferencedRegistries = nameof(ReferencedRegistries);
        public const string ReferenceClashes = nameof(ReferenceClashes);
    }
}
