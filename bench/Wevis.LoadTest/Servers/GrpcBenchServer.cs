using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Wevis.LoadTest.Servers;

/// <summary>gRPC on Kestrel over HTTP/2 without TLS (prior knowledge), serving <see cref="GrpcTimeService"/>.</summary>
internal static class GrpcBenchServer
{
    public static IBenchServer Create() => new KestrelHost(
        HttpProtocols.Http2,
        services => services.AddGrpc(),
        app => app.MapGrpcService<GrpcTimeService>());
}
