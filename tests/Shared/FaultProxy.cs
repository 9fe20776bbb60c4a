using System.Net;
using System.Net.Sockets;

namespace Wevis.Tests.Shared;

/// <summary>How a <see cref="FaultProxy"/> breaks a connection (public: test theories take it as data).</summary>
public enum FaultKind
{
    /// <summary>Both sockets are reset (RST): each side sees an error at once.</summary>
    Reset,

    /// <summary>Both sockets are closed normally (FIN), with no farewell: each side sees the end of the stream.</summary>
    Close,

    /// <summary>Nothing more is forwarded either way and nothing is closed: the half-open case, only a timeout tells.</summary>
    BlackHole,
}

/// <summary>Which way bytes go through a <see cref="FaultProxy"/>.</summary>
internal enum FaultDirection
{
    ClientToServer,
    ServerToClient,
}

/// <summary>Where a connection through a <see cref="FaultProxy"/> breaks: after so many bytes one way, in this manner.</summary>
internal sealed record FaultPlan(FaultDirection Direction, long AfterBytes, FaultKind Kind);

/// <summary>
/// A loopback TCP relay that breaks connections on purpose, for tests and the soak: each accepted connection is
/// relayed to the target, and its <see cref="FaultPlan"/> (from <see cref="Plan"/>) cuts it after a chosen number of
/// bytes in one direction (so mid-frame, mid-login or between frames, as the count falls), by a reset, a plain close,
/// or a black hole (half-open: nothing more passes, nothing closes). <see cref="Delay"/> holds each chunk back.
/// <see cref="BreakAll"/> breaks every open connection now.
/// </summary>
internal sealed class FaultProxy : IAsyncDisposable
{
    private readonly IPEndPoint _target;
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Relay> _relays = [];
    private readonly Task _acceptLoop;
    private int _connections;
    private int _faults;
    private int _blackHoles;

    public FaultProxy(int targetPort, Func<int, FaultPlan?>? plan = null)
    {
        _target = new IPEndPoint(IPAddress.Loopback, targetPort);
        Plan = plan;
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(512);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _acceptLoop = AcceptAsync();
    }

    /// <summary>The port clients connect to.</summary>
    public int Port { get; }

    /// <summary>The plan for the n-th connection (0-based); null or a null plan: relayed untouched.</summary>
    public Func<int, FaultPlan?>? Plan { get; set; }

    /// <summary>How long each chunk is held back before it is forwarded; zero (the default) forwards at once.</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>How long a black-holed connection stays open before it is reset (its peers should have given up on it by then). Default 10 seconds.</summary>
    public TimeSpan BlackHoleLifetime { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Whether a reset by one end is lost on its way: the other end's connection is left open, unread and unclosed (as
    /// a black hole), instead of being reset too; only a timeout tells it. A plain close (FIN) is still passed on. Off
    /// by default.
    /// </summary>
    public bool LosesResets { get; set; }

    /// <summary>Connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Connections broken so far (black holes included).</summary>
    public int Faults => Volatile.Read(ref _faults);

    /// <summary>Connections black-holed so far.</summary>
    public int BlackHoles => Volatile.Read(ref _blackHoles);

    /// <summary>
    /// A random plan: a break after a uniformly drawn number of bytes up to twice <paramref name="meanBytes"/>, in a
    /// random direction, of a random kind among <paramref name="kinds"/>.
    /// </summary>
    public static Func<int, FaultPlan?> RandomPlan(int seed, long meanBytes, params FaultKind[] kinds)
    {
        var random = new Random(seed);
        return _ =>
        {
            lock (random)
            {
                return new FaultPlan(
                    random.Next(2) == 0 ? FaultDirection.ClientToServer : FaultDirection.ServerToClient,
                    random.NextInt64(1, (2 * meanBytes) + 1),
                    kinds[random.Next(kinds.Length)]);
            }
        };
    }

    /// <summary>Breaks every open connection now, in the manner given.</summary>
    public void BreakAll(FaultKind kind)
    {
        Relay[] relays;
        lock (_relays)
        {
            relays = [.. _relays];
        }

        foreach (Relay relay in relays)
        {
            relay.Break(kind);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        _listener.Dispose();
        try
        {
            await _acceptLoop;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }

        BreakAll(FaultKind.Reset);
    }

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stopping.Token);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                return;
            }

            int index = Interlocked.Increment(ref _connections) - 1;
            _ = RunAsync(client, Plan?.Invoke(index));
        }
    }

    private async Task RunAsync(Socket client, FaultPlan? plan)
    {
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        try
        {
            await server.ConnectAsync(_target, _stopping.Token);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            client.Dispose();
            server.Dispose();
            return;
        }

        var relay = new Relay(this, client, server, plan);
        lock (_relays)
        {
            _relays.Add(relay);
        }

        await relay.RunAsync();
        lock (_relays)
        {
            _relays.Remove(relay);
        }
    }

    /// <summary>One relayed connection: a pump each way, and its break.</summary>
    private sealed class Relay(FaultProxy proxy, Socket client, Socket server, FaultPlan? plan)
    {
        private readonly TaskCompletionSource _broken = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _state; // 0 relaying, 1 broken
        private FaultKind _kind;

        public async Task RunAsync()
        {
            Task up = PumpAsync(client, server, plan is { Direction: FaultDirection.ClientToServer } p ? p.AfterBytes : long.MaxValue);
            Task down = PumpAsync(server, client, plan is { Direction: FaultDirection.ServerToClient } q ? q.AfterBytes : long.MaxValue);
            await Task.WhenAny(Task.WhenAll(up, down), _broken.Task);
            if (Volatile.Read(ref _state) == 0)
            {
                // Both sides done: a normal end, not a fault.
                Break(FaultKind.Close, counted: false);
            }

            if (_kind == FaultKind.BlackHole)
            {
                // A black hole keeps both sockets open (unread, unclosed) for a while, then resets them.
                try
                {
                    await Task.Delay(proxy.BlackHoleLifetime, proxy._stopping.Token);
                }
                catch (OperationCanceledException)
                {
                }

                Reset();
            }

            client.Dispose();
            server.Dispose();
        }

        public void Break(FaultKind kind, bool counted = true)
        {
            if (Interlocked.Exchange(ref _state, 1) != 0)
            {
                if (kind == FaultKind.Reset)
                {
                    Reset();
                }

                return;
            }

            _kind = kind;
            if (counted)
            {
                Interlocked.Increment(ref proxy._faults);
            }

            switch (kind)
            {
                case FaultKind.Reset:
                    Reset();
                    break;
                case FaultKind.Close:
                    Shutdown(client);
                    Shutdown(server);
                    client.Dispose();
                    server.Dispose();
                    break;
                case FaultKind.BlackHole:
                    Interlocked.Increment(ref proxy._blackHoles);
                    break;
            }

            _broken.TrySetResult();
        }

        private void Reset()
        {
            foreach (Socket socket in new[] { client, server })
            {
                try
                {
                    socket.LingerState = new LingerOption(true, 0);
                    socket.Close(0);
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                {
                }
            }
        }

        private static void Shutdown(Socket socket)
        {
            try
            {
                socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
            }
        }

        private static void ShutdownSending(Socket socket)
        {
            try
            {
                socket.Shutdown(SocketShutdown.Send);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
            }
        }

        private async Task PumpAsync(Socket from, Socket to, long budget)
        {
            byte[] buffer = new byte[16 * 1024];
            try
            {
                while (Volatile.Read(ref _state) == 0)
                {
                    int read = await from.ReceiveAsync(buffer, SocketFlags.None);
                    if (read == 0 || Volatile.Read(ref _state) != 0)
                    {
                        if (read == 0 && Volatile.Read(ref _state) == 0)
                        {
                            // One side closed its sending half: pass the close on, that way only. The other way goes
                            // on until its side closes too, as over a direct connection (a client that closes waits
                            // for the server's close, which must not come from the proxy).
                            ShutdownSending(to);
                        }

                        return;
                    }

                    if (proxy.Delay > TimeSpan.Zero)
                    {
                        await Task.Delay(proxy.Delay);
                    }

                    int forward = (int)Math.Min(read, budget);
                    if (forward > 0)
                    {
                        await to.SendAsync(buffer.AsMemory(0, forward), SocketFlags.None);
                        budget -= forward;
                    }

                    if (budget == 0 && plan is not null && Volatile.Read(ref _state) == 0)
                    {
                        Break(plan.Kind);
                        return;
                    }
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                if (Volatile.Read(ref _state) == 0)
                {
                    // An end reset the connection: pass it on (not a fault of the proxy's), unless resets are lost.
                    Break(proxy.LosesResets ? FaultKind.BlackHole : FaultKind.Reset, counted: false);
                }
            }
        }
    }
}
