using Wevis.Sessions;
using Wevis.Transport;

namespace Wevis;

// Receiving one of several message types, in the two ways a program may want it:
// - Receive…<T1, T2>: the next message, which must be one of them (else UnexpectedMessageException, and the message
//   is consumed), as the original's receive_blocking('A', 'B') did;
// - WaitFor…<T1, T2>: the first message of one of them; messages of other types that arrive first stay queued, in
//   order, for later receives (a selective receive, as in Erlang). A chat client that asks a question and waits for
//   its answer while others keep talking needs this one.
public sealed partial class Client
{
    /// <summary>
    /// Blocks until the next message arrives, which must be a <typeparamref name="T1"/> or a <typeparamref name="T2"/>,
    /// as the original's <c>receive_blocking('T1', 'T2')</c>. Match on the result:
    /// <c>switch (client.ReceiveBlocking&lt;Joined, Refused&gt;()) { case Joined joined: …; case Refused refused: … }</c>.
    /// </summary>
    /// <param name="timeout">How long to wait; null waits as long as the connection is open.</param>
    /// <remarks>A message of another type is consumed and thrown back in <see cref="UnexpectedMessageException.Received"/>; <see cref="WaitForBlocking{T1, T2}"/> keeps it instead.</remarks>
    /// <exception cref="UnexpectedMessageException">The next message is of another type (it is consumed).</exception>
    /// <exception cref="TimeoutException">No message arrived within <paramref name="timeout"/>.</exception>
    /// <exception cref="ConnectionClosedException">The connection closed before a message arrived.</exception>
    public IMessage ReceiveBlocking<T1, T2>(TimeSpan? timeout = null)
        where T1 : IMessage
        where T2 : IMessage =>
        Expect(ReceiveBlocking(timeout), Expected<T1, T2>.Accepts, Expected<T1, T2>.Types);

    /// <summary>Blocks until the next message arrives, which must be a <typeparamref name="T1"/>, <typeparamref name="T2"/> or <typeparamref name="T3"/>.</summary>
    /// <param name="timeout">How long to wait; null waits as long as the connection is open.</param>
    /// <remarks>A message of another type is consumed and thrown back in <see cref="UnexpectedMessageException.Received"/>; <see cref="WaitForBlocking{T1, T2, T3}"/> keeps it instead.</remarks>
    /// <exception cref="UnexpectedMessageException">The next message is of another type (it is consumed).</exception>
    /// <exception cref="TimeoutException">No message arrived within <paramref name="timeout"/>.</exception>
    /// <exception cref="ConnectionClosedException">The connection closed before a message arrived.</exception>
    public IMessage ReceiveBlocking<T1, T2, T3>(TimeSpan? timeout = null)
        where T1 : IMessage
        where T2 : IMessage
        where T3 : IMessage =>
        Expect(ReceiveBlocking(timeout), Expected<T1, T2, T3>.Accepts, Expected<T1, T2, T3>.Types);

    /// <summary>Waits for the next message, which must be a <typeparamref name="T1"/> or a <typeparamref name="T2"/>.</summary>
    /// <remarks>A message of another type is consumed and thrown back in <see cref="UnexpectedMessageException.Received"/>; <see cref="WaitForAsync{T1, T2}"/> keeps it instead.</remarks>
    /// <exception cref="UnexpectedMessageException">The next message is of another type (it is consumed).</exception>
    /// <exception cref="ConnectionClosedException">The connection closed before a message arrived.</exception>
    public async ValueTask<IMessage> ReceiveAsync<T1, T2>(CancellationToken cancellationToken = default)
        where T1 : IMessage
        where T2 : IMessage =>
        Expect(await ReceiveAsync(cancellationToken).ConfigureAwait(false), Expected<T1, T2>.Accepts, Expected<T1, T2>.Types);

    /// <summary>Waits for the next message, which must be a <typeparamref name="T1"/>, <typeparamref name="T2"/> or <typeparamref name="T3"/>.</summary>
    /// <remarks>A message of another type is consumed and thrown back in <see cref="UnexpectedMessageException.Received"/>; <see cref="WaitForAsync{T1, T2, T3}"/> keeps it instead.</remarks>
    /// <exception cref="UnexpectedMessageException">The next message is of another type (it is consumed).</exception>
    /// <exception cref="ConnectionClosedException">The connection closed before a message arrived.</exception>
    public async ValueTask<IMessage> ReceiveAsync<T1, T2, T3>(CancellationToken cancellationToken = default)
        where T1 : IMessage
        where T2 : IMessage
        where T3 : IMessage =>
        Expect(await ReceiveAsync(cancellationToken).ConfigureAwait(false), Expected<T1, T2, T3>.Accepts, Expected<T1, T2, T3>.Types);

    /// <summary>
    /// Blocks until a <typeparamref name="T"/> arrives, or takes the first one already queued. Messages of other
    /// types that arrive before it are not lost: they stay queued, in order, and the next receive gets the first of them.
    /// </summary>
    /// <param name="timeout">How long to wait; null waits as long as the connection is open.</param>
    /// <exception cref="TimeoutException">No <typeparamref name="T"/> arrived within <paramref name="timeout"/> (messages of other types may have).</exception>
    /// <exception cref="ConnectionClosedException">The connection closed before a <typeparamref name="T"/> arrived.</exception>
    public T WaitForBlocking<T>(TimeSpan? timeout = null)
        where T : IMessage =>
        (T)TakeBlocking(Expected<T>.Accepts, Expected<T>.Types, timeout);

    /// <summary>
    /// Blocks until a <typeparamref name="T1"/> or <typeparamref name="T2"/> arrives, or takes the first one already
    /// queued; messages of other types stay queued, in order, for later receives. Match on the result.
    /// </summary>
    /// <param name="timeout">How long to wait; null waits as long as the connection is open.</param>
    /// <exception cref="TimeoutException">No such message arrived within <paramref name="timeout"/> (messages of other types may have).</exception>
    /// <exception cref="ConnectionClosedException">The connection closed before such a message arrived.</exception>
    public IMessage WaitForBlocking<T1, T2>(TimeSpan? timeout = null)
        where T1 : IMessage
        where T2 : IMessage =>
        TakeBlocking(Expected<T1, T2>.Accepts, Expected<T1, T2>.Types, timeout);

    /// <summary>
    /// Blocks until a <typeparamref name="T1"/>, <typeparamref name="T2"/> or <typeparamref name="T3"/> arrives, or
    /// takes the first one already queued; messages of other types stay queued, in order, for later receives.
    /// </summary>
    /// <param name="timeout">How long to wait; null waits as long as the connection is open.</param>
    /// <exception cref="TimeoutException">No such message arrived within <paramref name="timeout"/> (messages of other types may have).</exception>
    /// <exception cref="ConnectionClosedException">The connection closed before such a message arrived.</exception>
    public IMessage WaitForBlocking<T1, T2, T3>(TimeSpan? timeout = null)
        where T1 : IMessage
        where T2 : IMessage
        where T3 : IMessage =>
        TakeBlocking(Expected<T1, T2, T3>.Accepts, Expected<T1, T2, T3>.Types, timeout);

    /// <summary>
    /// Waits for a <typeparamref name="T"/>, or takes the first one already queued. Messages of other types that
    /// arrive before it stay queued, in order, for later receives.
    /// </summary>
    /// <exception cref="ConnectionClosedException">The connection closed before a <typeparamref name="T"/> arrived.</exception>
    /// <exception cref="InvalidOperationException">Another receive is already waiting: receive one message at a time.</exception>
    public async ValueTask<T> WaitForAsync<T>(CancellationToken cancellationToken = default)
        where T : IMessage =>
        (T)await TakeAsync(Expected<T>.Accepts, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Waits for a <typeparamref name="T1"/> or <typeparamref name="T2"/>, or takes the first one already queued;
    /// messages of other types stay queued, in order, for later receives. Match on the result.
    /// </summary>
    /// <exception cref="ConnectionClosedException">The connection closed before such a message arrived.</exception>
    /// <exception cref="InvalidOperationException">Another receive is already waiting: receive one message at a time.</exception>
    public ValueTask<IMessage> WaitForAsync<T1, T2>(CancellationToken cancellationToken = default)
        where T1 : IMessage
        where T2 : IMessage =>
        TakeAsync(Expected<T1, T2>.Accepts, cancellationToken);

    /// <summary>
    /// Waits for a <typeparamref name="T1"/>, <typeparamref name="T2"/> or <typeparamref name="T3"/>, or takes the
    /// first one already queued; messages of other types stay queued, in order, for later receives.
    /// </summary>
    /// <exception cref="ConnectionClosedException">The connection closed before such a message arrived.</exception>
    /// <exception cref="InvalidOperationException">Another receive is already waiting: receive one message at a time.</exception>
    public ValueTask<IMessage> WaitForAsync<T1, T2, T3>(CancellationToken cancellationToken = default)
        where T1 : IMessage
        where T2 : IMessage
        where T3 : IMessage =>
        TakeAsync(Expected<T1, T2, T3>.Accepts, cancellationToken);

    private static IMessage Expect(IMessage message, Func<IMessage, bool> accepts, Type[] types) =>
        accepts(message) ? message : throw new UnexpectedMessageException(types, message);

    private ValueTask<IMessage> TakeAsync(Func<IMessage, bool> accepts, CancellationToken cancellationToken)
    {
        LoggedInTransport();
        return _inbox.DequeueAsync(accepts, cancellationToken);
    }

    /// <summary>Blocks until a message <paramref name="accepts"/> accepts (any message, if it is null) can be taken.</summary>
    /// <param name="accepts">Which messages may be taken; null: the next, whatever its type.</param>
    /// <param name="types">The types <paramref name="accepts"/> accepts, to name them if none arrives in time.</param>
    /// <param name="timeout">How long to wait; null waits as long as the connection is open.</param>
    private IMessage TakeBlocking(Func<IMessage, bool>? accepts, Type[]? types, TimeSpan? timeout)
    {
        ClientSession session = LoggedInConnection().Session;
        if (accepts is null ? _inbox.TryDequeue(out IMessage? message) : _inbox.TryTake(accepts, out message))
        {
            return message!;
        }

        if (FlushBatch.Current is { } batch && ReferenceEquals(batch, session.Batch))
        {
            throw new InvalidOperationException(
                "A blocking receive (ReceiveBlocking or WaitForBlocking) was called on the client's receive loop (in code continuing from ReceiveAsync), where it would wait forever; use ReceiveAsync or WaitForAsync there.");
        }

        using var cancel = timeout is { } limit ? new CancellationTokenSource(limit, _options.TimeProvider) : new CancellationTokenSource();

        try
        {
            return _inbox.DequeueAsync(accepts, cancel.Token).AsTask().GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            throw new TimeoutException(types is null
                ? $"No message arrived from the server within {timeout!.Value.TotalSeconds:0.###} s."
                : $"No {UnexpectedMessageException.Names(types)} message arrived from the server within {timeout!.Value.TotalSeconds:0.###} s (messages of other types stay queued).");
        }
    }

    /// <summary>The message types a receive accepts, made once per set of types so that receiving allocates nothing for them.</summary>
    private static class Expected<T>
        where T : IMessage
    {
        public static readonly Func<IMessage, bool> Accepts = static message => message is T;

        public static readonly Type[] Types = [typeof(T)];
    }

    /// <inheritdoc cref="Expected{T}"/>
    private static class Expected<T1, T2>
        where T1 : IMessage
        where T2 : IMessage
    {
        public static readonly Func<IMessage, bool> Accepts = static message => message is T1 or T2;

        public static readonly Type[] Types = [typeof(T1), typeof(T2)];
    }

    /// <inheritdoc cref="Expected{T}"/>
    private static class Expected<T1, T2, T3>
        where T1 : IMessage
        where T2 : IMessage
        where T3 : IMessage
    {
        public static readonly Func<IMessage, bool> Accepts = static message => message is T1 or T2 or T3;

        public static readonly Type[] Types = [typeof(T1), typeof(T2), typeof(T3)];
    }
}
