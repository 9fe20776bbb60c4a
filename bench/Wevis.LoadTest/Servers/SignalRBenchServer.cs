using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;

namespace Wevis.LoadTest.Servers;

/// <summary>SignalR with the MessagePack hub protocol: a hub method that answers with a server-to-client message.</summary>
internal static class SignalRBenchServer
{
    public const string Path = "/time";

    public static IBenchServer Create() => new KestrelHost(
        HttpProtocols.Http1,
        services => services.AddSignalR().AddMessagePackProtocol(),
        app => app.MapHub<TimeHub>(Path));
}

/// <summary>
/// Answers <c>WhatTimeIsIt</c> by sending <c>ItIs(hours, minutes)</c> to the caller, as a Wevis room does; repeats a
/// <c>Shout(seq)</c> to everyone in the hub group <see cref="Room"/> as <c>Heard(seq)</c> (scenario f).
/// </summary>
public sealed class TimeHub : Hub
{
    /// <summary>The one group: the fan-out room.</summary>
    public const string Room = "room";

    /// <summary>Puts the caller in the fan-out room.</summary>
    public Task Join() => Groups.AddToGroupAsync(Context.ConnectionId, Room);

    /// <summary>Repeats a numbered message to everyone in the fan-out room.</summary>
    public Task Shout(int seq) => Clients.Group(Room).SendAsync("Heard", seq);

    /// <summary>The request.</summary>
    public Task WhatTimeIsIt()
    {
        DateTime now = DateTime.UtcNow;
        return Clients.Caller.SendAsync("ItIs", now.Hour, now.Minute);
    }
}
