using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Wevis.Tests.Shared;

/// <summary>
/// A <c>dotnet</c> process started by a test (a sample's dll, or the CLI), with its output collected line by line.
/// Waiting for a line is woken by each new line, not by polling; every wait is bounded; disposing kills the
/// process (and its children) if it is still running.
/// </summary>
internal sealed class DotnetProcess : IDisposable
{
    private readonly Process _process;
    private readonly Lock _lock = new();
    private readonly List<string> _output = [];
    private readonly List<string> _errors = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private DotnetProcess(Process process)
    {
        _process = process;
    }

    /// <summary>The dotnet host running the tests, so children use the same SDK and runtime.</summary>
    public static string Host => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    /// <summary>The lines written to standard output so far.</summary>
    public IReadOnlyList<string> Output
    {
        get
        {
            lock (_lock)
            {
                return [.. _output];
            }
        }
    }

    /// <summary>The lines written to standard error so far.</summary>
    public IReadOnlyList<string> Errors
    {
        get
        {
            lock (_lock)
            {
                return [.. _errors];
            }
        }
    }

    /// <summary>Everything written so far, standard output then standard error, for assertion messages.</summary>
    public string Transcript => string.Join('\n', Output) + (Errors.Count > 0 ? "\n[stderr]\n" + string.Join('\n', Errors) : string.Empty);

    /// <summary>Starts <c>dotnet</c> with <paramref name="arguments"/>.</summary>
    /// <param name="arguments">The arguments, each passed as one (no shell quoting).</param>
    /// <param name="workingDirectory">Where to run; null for the current folder.</param>
    /// <param name="environment">Variables to set (a null value removes the variable).</param>
    public static DotnetProcess Start(IEnumerable<string> arguments, string? workingDirectory = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var info = new ProcessStartInfo(Host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        foreach ((string name, string? value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }

        var process = new Process { StartInfo = info };
        var started = new DotnetProcess(process);
        process.OutputDataReceived += (_, e) => started.Add(started._output, e.Data);
        process.ErrorDataReceived += (_, e) => started.Add(started._errors, e.Data);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return started;
    }

    /// <summary>Waits for a line of standard output that matches <paramref name="pattern"/>; fails after <paramref name="timeout"/>.</summary>
    public async Task<Match> WaitForOutputAsync(Regex pattern, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        Task exited = _process.WaitForExitAsync(cancel.Token); // Completes once the output is drained too.
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                changed = _changed.Task;
                foreach (string line in _output)
                {
                    if (pattern.Match(line) is { Success: true } match)
                    {
                        return match;
                    }
                }
            }

            if (exited.IsCompletedSuccessfully)
            {
                Assert.Fail($"The process exited ({_process.ExitCode}) without printing a line matching {pattern}:\n{Transcript}");
            }

            if (exited.IsCanceled)
            {
                Assert.Fail($"No line matching {pattern} within {timeout.TotalSeconds} s:\n{Transcript}");
            }

            await Task.WhenAny(changed, exited);
        }
    }

    /// <summary>Waits for the process to exit and returns its exit code; kills it and fails after <paramref name="timeout"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            Assert.Fail($"The process did not exit within {timeout.TotalSeconds} s:\n{Transcript}");
        }

        return _process.ExitCode;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill.
        }

        _process.Dispose();
    }

    private void Add(List<string> lines, string? line)
    {
        if (line is null)
        {
            return; // End of the stream.
        }

        TaskCompletionSource changed;
        lock (_lock)
        {
            lines.Add(line);
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }
}
