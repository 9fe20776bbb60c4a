using System.Buffers.Binary;
using Grpc.Core;

namespace Wevis.LoadTest.Servers;

/// <summary>
/// The gRPC service's one method, a bidirectional stream of requests and replies, with hand-written binary
/// marshallers (no .proto code generation: the method is declared with <see cref="Method{TRequest, TResponse}"/>).
/// </summary>
public static class GrpcTime
{
    /// <summary>The bidirectional streaming method: each request is answered with one reply.</summary>
    public static readonly Method<TimeRequest, TimeReply> Talk = new(
        MethodType.DuplexStreaming,
        "wevis.bench.Time",
        "Talk",
        Marshallers.Create(static (TimeRequest _) => new byte[1], static _ => TimeRequest.Instance),
        Marshallers.Create(SerializeReply, DeserializeReply));

    private static byte[] SerializeReply(TimeReply reply)
    {
        byte[] bytes = new byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, reply.Hours);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), reply.Minutes);
        return bytes;
    }

    private static TimeReply DeserializeReply(byte[] bytes) =>
        new(BinaryPrimitives.ReadInt32LittleEndian(bytes), BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4)));
}

/// <summary>The request: "what time is it?".</summary>
public sealed class TimeRequest
{
    /// <summary>The one request there is.</summary>
    public static readonly TimeRequest Instance = new();
}

/// <summary>The reply: the hour and minute.</summary>
public sealed record TimeReply(int Hours, int Minutes);

/// <summary>
/// The server side of <see cref="GrpcTime.Talk"/>, bound to ASP.NET Core gRPC without generated code. Not sealed,
/// and the method virtual: ASP.NET Core gRPC binds only virtual methods declared on the binding type.
/// </summary>
[BindServiceMethod(typeof(GrpcTimeService), nameof(BindService))]
public class GrpcTimeService
{
    /// <summary>Answers each request on the stream with the time.</summary>
    public virtual async Task Talk(IAsyncStreamReader<TimeRequest> requests, IServerStreamWriter<TimeReply> replies, ServerCallContext context)
    {
        while (await requests.MoveNext(CancellationToken.None).ConfigureAwait(false))
        {
            DateTime now = DateTime.UtcNow;
            await replies.WriteAsync(new TimeReply(now.Hour, now.Minute)).ConfigureAwait(false);
        }
    }

    /// <summary>Tells gRPC which methods the service has; called by ASP.NET Core gRPC (with no instance) and by tests.</summary>
    public static void BindService(ServiceBinderBase binder, GrpcTimeService? service) =>
        binder.AddMethod(GrpcTime.Talk, service is null ? null! : (DuplexStreamingServerMethod<TimeRequest, TimeReply>)service.Talk);
}
