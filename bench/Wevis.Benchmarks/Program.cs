using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Wevis.Benchmarks -- --filter '*'
// Each benchmark class groups its methods by category; in each category MessagePack-CSharp's own
// attribute-based formatter for the same shape is the baseline, so the Ratio column compares with it.
// dotnet run -c Release --project bench/Wevis.Benchmarks -- paired-round-trips: RoundTripBenchmarks interleaved (see PairedRoundTrips).
if (args is ["paired-round-trips", ..])
{
    return await Wevis.Benchmarks.PairedRoundTrips.RunAsync(args);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, DefaultConfig.Instance.WithOptions(ConfigOptions.JoinSummary));
return 0;
