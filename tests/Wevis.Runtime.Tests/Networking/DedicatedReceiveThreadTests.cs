using System.Security.Cryptography.X509Certificates;
using Example;
using Wevis.Runtime.Tests.Infrastructure;
using Wevis.Runtime.Tests.Messages;

namespace Wevis.Runtime.Tests.Networking;

/// <summary>
/// <see cref="ClientOptions.DedicatedReceiveThread"/>: the client receives on a thread of its own, which delivers
/// everything the thread pool's receive loop delivers, in the same order, and ends with the connection.
/// </summary>
public class DedicatedReceiveThreadTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task RepliesArriveInOrderAndWhatContinuesFromAReceiveRunsOnTheClientsOwnThread()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using Client client = await ConnectAsync(server);

        // Enough numbered replies to fill the small resident receive buffer many times over: bursts are read too.
        const int Count = 2_000;
        for (int i = 0; i < Count; i++)
        {
            client.Send(new Numbered(i));
        }

        for (int i = 0; i < Count; i++)
        {
            Assert.Equal(new NumberedReply(i), await client.ReceiveAsync<NumberedReply>().Within());
        }

        Thread receiving = await ThreadOfNextReplyAsync(client);
        Assert.False(receiving.IsThreadPoolThread);
        Assert.True(receiving.IsBackground, "the receive thread would keep the process alive");
        Assert.Equal($"Wevis client receive 127.0.0.1:{server.Port}", receiving.Name);
        Assert.Equal(0, server.Room.OutOfOrder);
    }

    [Fact]
    public async Task TheBlockingStyleWorksOnIt()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using Client client = await ConnectAsync(server);

        for (int i = 0; i < 50; i++)
        {
            client.Send(new WhoAmI());
            Assert.Equal(new YouAre("michael"), client.ReceiveBlocking<YouAre>(Bound));
        }
    }

    [Fact]
    public async Task DisposingTheClientEndsItsReceiveThread()
    {
        await using TestServer server = await TestServer.StartAsync();
        Client client = await ConnectAsync(server);
        Thread receiving = await ThreadOfNextReplyAsync(client);

        await client.DisposeAsync().Within();

        Assert.True(receiving.Join(Bound), "the receive thread did not end when the client was disposed");
        await ExampleExchangeTests.WaitUntilAsync(() => server.Room.LeftCount("michael") == 1);
    }

    [Fact]
    public async Task WhenTheServerStopsTheReceiveFailsWithItsReasonAndTheThreadEnds()
    {
        TestServer server = await TestServer.StartAsync();
        await using Client client = await ConnectAsync(server);
        Thread receiving = await ThreadOfNextReplyAsync(client);
        Task<IMessage> pending = client.ReceiveAsync().AsTask();

        await server.Server.StopAsync().Within();

        ConnectionClosedException ex = await Assert.ThrowsAsync<ConnectionClosedException>(() => pending.WaitAsync(Bound)).Within();
        Assert.Contains("the server is stopping", ex.Reason, StringComparison.Ordinal);
        Assert.True(receiving.Join(Bound), "the receive thread did not end when the server closed the connection");
        Assert.False(client.IsConnected);
    }

    [Fact]
    public async Task WithTlsTheOptionIsIgnoredAndTheClientReceivesOnThePool()
    {
        using X509Certificate2 certificate = TestCertificate.CreateSelfSigned();
        await using TestServer server = await TestServer.StartAsync(o => o.Certificate = certificate);
        await using Client client = await server.ConnectAsync(configure: o =>
        {
            o.DedicatedReceiveThread = true;
            o.UseTls = true;
            o.ServerCertificateValidation = (_, _, _, _) => true;
        });

        Assert.True((await ThreadOfNextReplyAsync(client)).IsThreadPoolThread);
    }

    private static Task<Client> ConnectAsync(TestServer server) => server.ConnectAsync(configure: o => o.DedicatedReceiveThread = true);

    /// <summary>Asks the time and returns the thread that the code continuing from the answer runs on.</summary>
    private static async Task<Thread> ThreadOfNextReplyAsync(Client client)
    {
        Task<Thread> continued = ContinueAsync(client.ReceiveAsync<ItIs>());
        client.Send(new WhatTimeIsIt());
        return await continued.Within();

        static async Task<Thread> ContinueAsync(ValueTask<ItIs> answer)
        {
            await answer.ConfigureAwait(false);
            return Thread.CurrentThread;
        }
    }
}
