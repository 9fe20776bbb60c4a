using System.Diagnostics;
using Wevis.LoadTest.Clients;

namespace Wevis.LoadTest.Driver;

/// <summary>
/// b)'s measurement, shared by the main scenarios and the sequencing on/off comparison so that both count replies
/// the same way: a window of requests kept in flight, a warm-up, then replies per second over the measured span.
/// </summary>
internal static class PipelineMeasurement
{
    public static async Task<double> RepliesPerSecondAsync(IBenchClient client, LoadTestSettings settings)
    {
        var replies = new ReplyCounter();
        using var stop = new CancellationTokenSource();
        Task running = client.PipelineAsync(settings.PipelineWindow, replies, stop.Token);
        await Task.Delay(settings.PipelineWarmup).ConfigureAwait(false);
        long startCount = replies.Value;
        long start = Stopwatch.GetTimestamp();
        await Task.Delay(settings.PipelineMeasure).ConfigureAwait(false);
        long endCount = replies.Value;
        TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
        stop.Cancel();
        if (running.IsFaulted)
        {
            await running.ConfigureAwait(false);
        }

        try
        {
            await running.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Some clients do not wait for their last replies; the caller drops the connection.
        }

        return (endCount - startCount) / elapsed.TotalSeconds;
    }
}
