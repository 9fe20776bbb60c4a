using System.Diagnostics;
using Wevis.LoadTest.Clients;
using Wevis.LoadTest.Servers;

namespace Wevis.LoadTest.Driver;

/// <summary>
/// f) One sender keeps up to a window of numbered messages in flight to a room; every client in the room (the sender
/// too) receives each. A message is delivered when the last recipient has it: that completes it, records the time
/// from its send to that last receipt, and lets the sender send the next.
/// </summary>
internal sealed class FanOutRun(int recipients, int window)
{
    // More slots than messages in flight: a slot is reused only after its message has reached everyone.
    private const int Slots = 64;

    private readonly long[] _sentAt = new long[Slots];
    private readonly int[] _received = new int[Slots];
    private readonly SemaphoreSlim _credits = new(window);
    private readonly Lock _samplesLock = new();
    private readonly LatencySamples _samples = new(64 * 1024);
    private long _completed;
    private volatile bool _measuring;

    public int Recipients { get; } = recipients;

    /// <summary>Called by every recipient's receive path for every message it receives.</summary>
    public void Heard(int seq)
    {
        int slot = seq & (Slots - 1);
        if (Interlocked.Increment(ref _received[slot]) != Recipients)
        {
            return;
        }

        long elapsed = Stopwatch.GetTimestamp() - Volatile.Read(ref _sentAt[slot]);
        if (_measuring)
        {
            lock (_samplesLock)
            {
                _samples.Add(elapsed);
            }

            Interlocked.Increment(ref _completed);
        }

        _credits.Release();
    }

    /// <summary>Sends for <paramref name="warmup"/>, then measures for <paramref name="measure"/>, then waits for every message in flight.</summary>
    public async Task<FanOutFigures> RunAsync(IBenchClient sender, TimeSpan warmup, TimeSpan measure, IServerMeter server)
    {
        using var stop = new CancellationTokenSource();
        Task sending = SendAsync(sender, stop.Token);
        await Task.Delay(warmup).ConfigureAwait(false);
        long allocatedBefore = await server.AllocatedBytesAsync().ConfigureAwait(false);
        TimeSpan cpuBefore = server.ProcessorTime;
        TimeSpan driverCpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        _measuring = true;
        long start = Stopwatch.GetTimestamp();
        await Task.Delay(measure).ConfigureAwait(false);
        _measuring = false;
        TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
        TimeSpan cpu = server.ProcessorTime - cpuBefore;
        TimeSpan driverCpu = Process.GetCurrentProcess().TotalProcessorTime - driverCpuBefore;
        long allocated = await server.AllocatedBytesAsync().ConfigureAwait(false) - allocatedBefore;
        long completed = Interlocked.Read(ref _completed);
        stop.Cancel();
        await sending.ConfigureAwait(false);

        // Every message in flight must still reach everyone: the next phase starts from a quiet room.
        for (int i = 0; i < window; i++)
        {
            if (!await _credits.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false))
            {
                throw new TimeoutException($"f) a message did not reach all {Recipients} clients within 30 s.");
            }
        }

        double deliveries = completed * (double)Recipients;
        LatencySamples samples;
        lock (_samplesLock)
        {
            samples = _samples;
        }

        return new FanOutFigures(
            deliveries / elapsed.TotalSeconds,
            samples.PercentileMicroseconds(50),
            samples.PercentileMicroseconds(99),
            deliveries > 0 ? cpu.TotalMicroseconds / deliveries : double.NaN,
            deliveries > 0 ? allocated / deliveries : double.NaN,
            deliveries > 0 ? driverCpu.TotalMicroseconds / deliveries : double.NaN)
        {
            Samples = samples,
        };
    }

    private async Task SendAsync(IBenchClient sender, CancellationToken stop)
    {
        int seq = 0;
        try
        {
            while (true)
            {
                await _credits.WaitAsync(stop).ConfigureAwait(false);
                int slot = seq & (Slots - 1);
                Volatile.Write(ref _received[slot], 0);
                Volatile.Write(ref _sentAt[slot], Stopwatch.GetTimestamp());
                await sender.ShoutAsync(seq).ConfigureAwait(false);
                seq++;
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }
}

/// <summary>f) One system's figures for one room size and window, in one round.</summary>
/// <param name="DeliveriesPerSecond">Messages that reached every recipient, times the recipients, per second.</param>
/// <param name="P50Microseconds">From a message's send to its last receipt: median.</param>
/// <param name="P99Microseconds">From a message's send to its last receipt: 99th percentile.</param>
/// <param name="ServerMicrosecondsPerDelivery">The server's CPU time (user and system) per delivery.</param>
/// <param name="ServerBytesPerDelivery">What the server allocated on the managed heap per delivery (about: the measured time's edges are not exact).</param>
/// <param name="ClientsMicrosecondsPerDelivery">The driver's CPU time per delivery: the clients' side (receiving and counting).</param>
internal sealed record FanOutFigures(double DeliveriesPerSecond, double P50Microseconds, double P99Microseconds, double ServerMicrosecondsPerDelivery, double ServerBytesPerDelivery, double ClientsMicrosecondsPerDelivery)
{
    /// <summary>Every measured message's time from send to last receipt, to pool with other blocks'.</summary>
    public LatencySamples Samples { get; init; } = new(1);
}
