using System.Diagnostics.CodeAnalysis;

namespace Wevis;

/// <summary>
/// Received messages in arrival order: a ring buffer that can also give up the first message a receive accepts
/// from anywhere in it, keeping the others in order (for <see cref="Client.WaitForBlocking{T}"/> and its kin).
/// Taking the front is O(1) and allocates nothing; taking the i-th moves the i messages before it one place on.
/// Not thread-safe: <see cref="MessageInbox"/> holds its lock around every call.
/// </summary>
internal sealed class MessageQueue
{
    private IMessage?[] _items = new IMessage?[16]; // a power of two, so positions wrap with a mask
    private int _head;
    private int _count;

    /// <summary>How many messages are queued.</summary>
    public int Count => _count;

    /// <summary>Adds <paramref name="message"/> at the back.</summary>
    public void Enqueue(IMessage message)
    {
        if (_count == _items.Length)
        {
            Grow();
        }

        _items[(_head + _count) & (_items.Length - 1)] = message;
        _count++;
    }

    /// <summary>Takes the message at the front, if there is one.</summary>
    public bool TryDequeue([NotNullWhen(true)] out IMessage? message)
    {
        if (_count == 0)
        {
            message = null;
            return false;
        }

        message = _items[_head]!;
        _items[_head] = null;
        _head = (_head + 1) & (_items.Length - 1);
        _count--;
        return true;
    }

    /// <summary>Takes the first message <paramref name="accepts"/> accepts, if there is one; the others keep their order.</summary>
    public bool TryTakeFirst(Func<IMessage, bool> accepts, [NotNullWhen(true)] out IMessage? message)
    {
        int mask = _items.Length - 1;
        for (int i = 0; i < _count; i++)
        {
            IMessage candidate = _items[(_head + i) & mask]!;
            if (!accepts(candidate))
            {
                continue;
            }

            // Close the gap: the messages before it move one place towards the back, and the front moves on.
            for (int j = i; j > 0; j--)
            {
                _items[(_head + j) & mask] = _items[(_head + j - 1) & mask];
            }

            _items[_head] = null;
            _head = (_head + 1) & mask;
            _count--;
            message = candidate;
            return true;
        }

        message = null;
        return false;
    }

    private void Grow()
    {
        var bigger = new IMessage?[_items.Length * 2];
        int firstPart = Math.Min(_count, _items.Length - _head);
        Array.Copy(_items, _head, bigger, 0, firstPart);
        Array.Copy(_items, 0, bigger, firstPart, _count - firstPart);
        _items = bigger;
        _head = 0;
    }
}
