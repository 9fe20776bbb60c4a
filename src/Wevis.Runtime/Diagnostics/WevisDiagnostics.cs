namespace Wevis;

/// <summary>
/// The names under which a server publishes its metrics (<see cref="System.Diagnostics.Metrics.Meter"/>) and traces
/// (<see cref="System.Diagnostics.ActivitySource"/>), to subscribe to them: with OpenTelemetry,
/// <c>.AddMeter(WevisDiagnostics.MeterName)</c> and <c>.AddSource(WevisDiagnostics.ActivitySourceName)</c>;
/// with <c>dotnet-counters monitor --counters Wevis.Server</c>. The instruments are listed in docs/guide/metrics.md.
/// </summary>
public static class WevisDiagnostics
{
    /// <summary>The server's meter: connections, sessions, logins, messages, bytes, handler and tick durations, send queues, rooms.</summary>
    public const string MeterName = "Wevis.Server";

    /// <summary>The server's activity source: a span per login and per message a room handles, and per tick.</summary>
    public const string ActivitySourceName = "Wevis.Server";
}
