using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using TimeServer;
using TimeServer.Hosted;
using Wevis;
using Wevis.Hosting;

// The time server under the Generic Host: settings from appsettings.json, environment variables (Wevis__Server__Port)
// and the command line (--Wevis:Server:Port 0); the validator and the room from the container; logs through the
// host's logging; stops gracefully on Ctrl+C or SIGTERM. Metrics and traces go to the console with
// --Telemetry:Console true, and to an OpenTelemetry collector when OTEL_EXPORTER_OTLP_ENDPOINT is set.
HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);

builder.Services.AddWevisServer()
    .UseValidator<ConfiguredTimeLogin>()
    .UseEntryRoom<TimeRoom>();

bool console = builder.Configuration.GetValue<bool>("Telemetry:Console");
bool otlp = !string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
if (console || otlp)
{
    int seconds = builder.Configuration.GetValue("Telemetry:ConsoleIntervalSeconds", 10);
    builder.Services.AddOpenTelemetry()
        .WithMetrics(metrics =>
        {
            metrics.AddMeter(WevisDiagnostics.MeterName);
            if (console)
            {
                metrics.AddConsoleExporter((_, reader) => reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = seconds * 1000);
            }

            if (otlp)
            {
                metrics.AddOtlpExporter();
            }
        })
        .WithTracing(tracing =>
        {
            tracing.AddSource(WevisDiagnostics.ActivitySourceName);
            if (console)
            {
                tracing.AddConsoleExporter();
            }

            if (otlp)
            {
                tracing.AddOtlpExporter();
            }
        });
}

await builder.Build().RunAsync();
