using System.Collections.Concurrent;
using System.Diagnostics;

namespace Wevis.Cli.Load;

/// <summary>
/// Runs a <see cref="LoadScript"/> on many clients at once: each connects and logs in, then runs the script for its
/// iterations, timing each expected answer from the send before it. Failures (a login refused, an answer that did not
/// come in time, a connection lost, or anything else that stops one client) are counted, not fatal to the others.
/// </summary>
internal sealed class LoadRunner(LoadScript script, Func<int, Client> createClient, int clients, int iterations, TimeSpan timeout)
{
    private readonly ConcurrentDictionary<string, ConcurrentBag<double>> _samples = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _failures = new(StringComparer.Ordinal);
    private long _iterationsDone;

    /// <summary>Iterations finished by all clients so far (for the progress display).</summary>
    public long IterationsDone => Interlocked.Read(ref _iterationsDone);

    public long IterationsPlanned => (long)clients * iterations;

    public async Task<LoadReport> RunAsync(CancellationToken cancellationToken)
    {
        foreach (string label in script.Measured)
        {
            _samples[label] = [];
        }

        var elapsed = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(i => RunClientAsync(i, cancellationToken))).ConfigureAwait(false);
        elapsed.Stop();
        return new LoadReport(
            clients,
            iterations,
            elapsed.Elapsed,
            [.. script.Measured.Distinct().Select(label => LatencyRow.Of(label, [.. _samples[label]]))],
            new Dictionary<string, int>(_failures));
    }

    private async Task RunClientAsync(int index, CancellationToken cancellationToken)
    {
        // Spread the logins over the first moments rather than all in one burst.
        await Task.Yield();
        Client? client = null;
        try
        {
            client = createClient(index);
            using (var connecting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                connecting.CancelAfter(timeout);
                await client.ConnectAsync(connecting.Token).ConfigureAwait(false);
            }

            for (int iteration = 0; iteration < iterations; iteration++)
            {
                long sent = Stopwatch.GetTimestamp();
                foreach (LoadStep step in script.Steps)
                {
                    switch (step)
                    {
                        case SendStep send:
                            client.SendUntyped(send.Message);
                            sent = Stopwatch.GetTimestamp();
                            break;
                        case ExpectStep expect:
                            await ExpectAsync(client, expect.Name, cancellationToken).ConfigureAwait(false);
                            _samples[expect.Label].Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
                            break;
                        case SleepStep sleep:
                            await Task.Delay(sleep.Duration, cancellationToken).ConfigureAwait(false);
                            break;
                    }
                }

                Interlocked.Increment(ref _iterationsDone);
            }
        }
        catch (LoginRejectedException rejected)
        {
            Fail("login rejected: " + rejected.Reason);
        }
        catch (ConnectionFailedException failed)
        {
            Fail("could not connect: " + failed.Message);
        }
        catch (ConnectionClosedException closed)
        {
            Fail("connection closed: " + closed.Message);
        }
        catch (TimeoutException late)
        {
            Fail(late.Message);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Fail($"did not log in within {timeout.TotalSeconds:0.###} s");
        }
        catch (Exception unexpected) when (unexpected is not OperationCanceledException)
        {
            // Whatever else goes wrong with one client (making it, or a message it cannot send) fails that client only.
            Fail($"{unexpected.GetType().Name}: {unexpected.Message}");
        }
        finally
        {
            if (client is not null)
            {
                await client.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task ExpectAsync(Client client, string name, CancellationToken cancellationToken)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(timeout);
        try
        {
            while ((await client.ReceiveAsync(bound.Token).ConfigureAwait(false)).Descriptor.Name != name)
            {
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no {name} within {timeout.TotalSeconds:0.###} s");
        }
    }

    private void Fail(string reason) => _failures.AddOrUpdate(reason, 1, static (_, n) => n + 1);
}

/// <summary>What a load run measured.</summary>
internal sealed record LoadReport(int Clients, int Iterations, TimeSpan Elapsed, IReadOnlyList<LatencyRow> Rows, IReadOnlyDictionary<string, int> Failures)
{
    public int FailedClients => Failures.Values.Sum();

    public long Samples => Rows.Sum(r => (long)r.Count);

    public double RoundTripsPerSecond => Elapsed.TotalSeconds > 0 ? Samples / Elapsed.TotalSeconds : 0;
}

/// <summary>One measured step's latencies, in milliseconds.</summary>
internal sealed record LatencyRow(string Step, int Count, double Mean, double P50, double P90, double P99, double Max)
{
    public static LatencyRow Of(string step, double[] samples)
    {
        if (samples.Length == 0)
        {
            return new LatencyRow(step, 0, 0, 0, 0, 0, 0);
        }

        Array.Sort(samples);
        return new LatencyRow(step, samples.Length, samples.Average(), Percentile(samples, 0.50), Percentile(samples, 0.90), Percentile(samples, 0.99), samples[^1]);
    }

    /// <summary>The nearest-rank percentile of sorted samples.</summary>
    private static double Percentile(double[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}
