using Wevis.Soak;

// Wevis soak test: holds N clients against a server for M minutes with churn, and reports what happened and the
// server's memory at the start and the end, so that a leak shows as a number. See docs/reliability.md.
//
//   dotnet run -c Release --project bench/Wevis.Soak -- --clients 100 --minutes 10
//   dotnet run -c Release --project bench/Wevis.Soak -- --clients 50 --minutes 1 --faults 200   (through the fault proxy, resuming)
//
// The server runs in a child process (this program with --server), so its memory is its own.
if (args.Contains("--server"))
{
    return await SoakServer.RunAsync(Console.In, Console.Out);
}

if (!SoakOptions.TryParse(args, out SoakOptions? options, out string? error))
{
    Console.Error.WriteLine(error);
    Console.Error.WriteLine(SoakOptions.Usage);
    return 2;
}

return await SoakDriver.RunAsync(options);
