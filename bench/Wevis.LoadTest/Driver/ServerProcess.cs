using System.Diagnostics;
using System.Reflection;
using Wevis.LoadTest.Servers;

namespace Wevis.LoadTest.Driver;

/// <summary>A server's managed heap after a compacting collection.</summary>
/// <param name="LiveBytes">What the heap holds: its size after the collection less its free space (fragmentation).</param>
/// <param name="CommittedBytes">What the garbage collector has committed from the operating system, free space included.</param>
internal sealed record ManagedHeap(long LiveBytes, long CommittedBytes);

/// <summary>
/// One system's server in a child process (this executable with <c>serve &lt;system&gt; --port 0</c>), with its
/// memory read from <c>/proc/&lt;pid&gt;/status</c>.
/// </summary>
internal sealed class ServerProcess : IServerMeter, IAsyncDisposable
{
    private readonly Process _process;

    private ServerProcess(SystemKind system, Process process, int port)
    {
        System = system;
        _process = process;
        Port = port;
    }

    public SystemKind System { get; }

    public int Port { get; }

    public int ProcessId => _process.Id;

    /// <summary>The server's CPU time so far in user mode (its own code and the runtime's, not the kernel's).</summary>
    public TimeSpan UserProcessorTime
    {
        get
        {
            _process.Refresh();
            return _process.UserProcessorTime;
        }
    }

    /// <summary>The server's CPU time so far (user and system).</summary>
    public TimeSpan ProcessorTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    /// <summary>Starts <paramref name="system"/>'s server; <paramref name="groupSize"/> (raw only): shouts go to groups of that many connections.</summary>
    public static async Task<ServerProcess> StartAsync(SystemKind system, TimeSpan lifetime, int groupSize = 0)
    {
        string host = Environment.ProcessPath ?? throw new InvalidOperationException("No process path.");
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            start.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        }

        foreach (string argument in (string[])["serve", system.CommandName(), "--port", "0", "--lifetime", ((int)lifetime.TotalSeconds).ToString()])
        {
            start.ArgumentList.Add(argument);
        }

        if (groupSize > 0)
        {
            start.ArgumentList.Add("--group");
            start.ArgumentList.Add(groupSize.ToString());
        }

        Process process = Process.Start(start) ?? throw new InvalidOperationException("Could not start a server process.");
        try
        {
            string? line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
            if (line is null || !line.StartsWith("port ", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"The {system} server did not report its port (it said: {line ?? "nothing"}).");
            }

            return new ServerProcess(system, process, int.Parse(line.AsSpan(5)));
        }
        catch
        {
            process.Kill();
            process.Dispose();
            throw;
        }
    }

    /// <summary>The resident set size now, in bytes.</summary>
    public long ResidentBytes => ReadStatus("VmRSS:");

    /// <summary>The peak resident set size since start (or the last <see cref="ResetPeak"/>), in bytes.</summary>
    public long PeakResidentBytes => ReadStatus("VmHWM:");

    /// <summary>Asks the server for a full compacting collection, waits for it, and returns its managed heap after it.</summary>
    public async Task<ManagedHeap> CollectGarbageAsync()
    {
        await _process.StandardInput.WriteLineAsync("gc").ConfigureAwait(false);
        await _process.StandardInput.FlushAsync().ConfigureAwait(false);
        string? answer = await _process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        string[] words = answer?.Split(' ') ?? [];
        if (words is not ["ok", string live, string committed])
        {
            throw new InvalidOperationException($"The {System} server answered '{answer}' to gc.");
        }

        return new ManagedHeap(long.Parse(live), long.Parse(committed));
    }

    /// <summary>The bytes the server has allocated on the managed heap so far.</summary>
    public async Task<long> AllocatedBytesAsync()
    {
        await _process.StandardInput.WriteLineAsync("allocated").ConfigureAwait(false);
        await _process.StandardInput.FlushAsync().ConfigureAwait(false);
        string? answer = await _process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        return long.Parse(answer ?? throw new InvalidOperationException($"The {System} server did not answer 'allocated'."));
    }

    /// <summary>How many work items the server's thread pool has completed so far (socket completions among them).</summary>
    public async Task<long> CompletedWorkItemsAsync()
    {
        await _process.StandardInput.WriteLineAsync("workitems").ConfigureAwait(false);
        await _process.StandardInput.FlushAsync().ConfigureAwait(false);
        string? answer = await _process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        return long.Parse(answer ?? throw new InvalidOperationException($"The {System} server did not answer 'workitems'."));
    }

    /// <summary>Closes the server's stdin, which stops it; kills it if it has not exited within <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        try
        {
            _process.StandardInput.Close();
            await _process.WaitForExitAsync().WaitAsync(grace).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await StopAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }

        _process.Dispose();
    }

    private long ReadStatus(string field)
    {
        foreach (string line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                // "VmRSS:     12345 kB"
                return long.Parse(line.AsSpan(field.Length).Trim().TrimEnd("kB").Trim()) * 1024;
            }
        }

        throw new InvalidOperationException($"/proc/{_process.Id}/status has no {field}.");
    }
}
