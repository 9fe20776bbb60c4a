using Example;
using Wevis.Runtime.Tests.Infrastructure;

namespace Wevis.Runtime.Tests.Networking;

/// <summary>
/// <see cref="ClientOptions.DedicatedReceiveThread"/>: the client receives on a thread of its own, in both client
/// styles, and that thread ends when the connection does, however it ends.
/// </summary>
public class DedicatedReceiveThreadTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task TheBlockingStyleWorksAndTheThreadEndsWhenStopped()
    {
        await using TestServer server = await TestServer.StartAsync();
        Thread? receiveThread = null;
        await Task.Run(() =>
        {
            using Client client = server.CreateClient(configure: o => o.DedicatedReceiveThread = true);
            client.StartBlocking();
            client.ReceiveBlocking<ServerReady>(Wait);
            receiveThread = FindReceiveThread(client);
            for (int i = 0; i < 100; i++)
            {
                client.Send(new WhoAmI());
                Assert.Equal("michael", client.ReceiveBlocking<YouAre>(Wait).Name);
            }
        });

        Assert.NotNull(receiveThread);
        Assert.True(receiveThread.Join(Wait), "the receive thread should end once the client is stopped");
    }

    [Fact]
    public async Task AsyncContinuationsRunOnTheReceiveThread()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using Client client = server.CreateClient(configure: o => o.DedicatedReceiveThread = true);
        await client.ConnectAsync();
        await client.ReceiveAsync<ServerReady>();

        // Off the test framework's context, so each reply resumes the waiting code on the thread it arrives on.
        HashSet<string?> threads = await Task.Run(async () =>
        {
            var names = new HashSet<string?>();
            for (int i = 0; i < 50; i++)
            {
                // The wait is registered before the request goes out, so the reply cannot be there already.
                Task<string?> resumedOn = NameOfThreadResumedOn(client.ReceiveAsync<ItIs>());
                client.Send(new WhatTimeIsIt());
                names.Add(await resumedOn);
            }

            return names;
        });

        // Every reply resumed its waiter on the client's own thread, which is named for it.
        Assert.Equal([$"Wevis client michael@127.0.0.1:{server.Port}"], threads);
    }

    [Fact]
    public async Task AServerThatClosesTheConnectionEndsAWaitingReceiveAndTheThread()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using Client client = server.CreateClient(configure: o => o.DedicatedReceiveThread = true);
        await client.ConnectAsync();
        await client.ReceiveAsync<ServerReady>();
        Thread receiveThread = FindReceiveThread(client);

        ValueTask<IMessage> waiting = client.ReceiveAsync();
        Connection connection = Assert.Single(server.Room.Connections);
        connection.Close("closing for the test");

        var closed = await Assert.ThrowsAsync<ConnectionClosedException>(async () => await waiting.AsTask().WaitAsync(Wait));
        Assert.Contains("closing for the test", closed.Reason);
        Assert.True(receiveThread.Join(Wait), "the receive thread should end with the connection");
    }

    [Fact]
    public async Task StoppingFromAContinuationOnTheReceiveThreadDoesNotHang()
    {
        await using TestServer server = await TestServer.StartAsync();
        Client client = server.CreateClient(configure: o => o.DedicatedReceiveThread = true);
        await client.ConnectAsync();
        await client.ReceiveAsync<ServerReady>();
        async Task<Thread> StopOnTheReceiveThread(ValueTask<YouAre> reply)
        {
            await reply;

            // Now on the receive thread: stopping here must not wait for this thread to finish.
            Assert.StartsWith("Wevis client", Thread.CurrentThread.Name);
            client.Stop();
            return Thread.CurrentThread;
        }

        Thread receiveThread = await Task.Run(() =>
        {
            // The wait is registered before the request goes out, so the reply resumes it where it arrives.
            Task<Thread> stopped = StopOnTheReceiveThread(client.ReceiveAsync<YouAre>());
            client.Send(new WhoAmI());
            return stopped;
        });

        Assert.True(await Task.Run(() => receiveThread.Join(Wait)), "the receive thread should end after Stop");
        Assert.False(client.IsConnected);
    }

    private static async Task<string?> NameOfThreadResumedOn(ValueTask<ItIs> reply)
    {
        await reply;
        return Thread.CurrentThread.Name;
    }

    /// <summary>Waits for one message on the receive thread and returns that thread.</summary>
    private static Thread FindReceiveThread(Client client)
    {
        static async Task<Thread> ThreadResumedOn(ValueTask<YouAre> reply)
        {
            await reply;
            return Thread.CurrentThread;
        }

        // Off the test framework's context; the wait is registered before the request goes out.
        Task<Thread> resumed = Task.Run(() =>
        {
            Task<Thread> waiting = ThreadResumedOn(client.ReceiveAsync<YouAre>());
            client.Send(new WhoAmI());
            return waiting;
        });
        Assert.True(resumed.Wait(Wait));
        Thread found = resumed.Result;
        Assert.StartsWith("Wevis client", found.Name);
        return found;
    }
}
