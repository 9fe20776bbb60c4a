using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Wevis;

/// <summary>
/// Finds a message type by wire id: an open-addressing hash table with linear probing, built once and never
/// changed, at most half full. Reading a message looks up every body's wire id, and this does it with one
/// multiply, a shift and (almost always) one comparison, where a dictionary goes through its comparer.
/// </summary>
/// <remarks>
/// Wire ids are FNV-1a hashes, but a peer chooses the ids it sends, so the slot comes from a multiplicative
/// (Fibonacci) hash of the id rather than its low bits; an unknown id ends at the first empty slot, and with the
/// table at most half full the probe runs are short whatever ids arrive.
/// </remarks>
internal sealed class WireIdTable
{
    private readonly Entry[] _entries;
    private readonly int _shift;

    public WireIdTable(IReadOnlyCollection<MessageDescriptor> messages)
    {
        int capacity = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(4, messages.Count * 2));
        _entries = new Entry[capacity];
        _shift = 32 - BitOperations.Log2((uint)capacity);
        int mask = capacity - 1;
        foreach (MessageDescriptor message in messages)
        {
            int slot = Slot(message.WireId);
            while (_entries[slot].Descriptor is not null)
            {
                slot = (slot + 1) & mask;
            }

            _entries[slot] = new Entry(message.WireId, message);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGet(int wireId, [NotNullWhen(true)] out MessageDescriptor? descriptor)
    {
        Entry[] entries = _entries;
        int mask = entries.Length - 1;
        int slot = Slot(wireId);
        while (true)
        {
            ref Entry entry = ref entries[slot];
            if (entry.WireId == wireId && entry.Descriptor is not null)
            {
                descriptor = entry.Descriptor;
                return true;
            }

            if (entry.Descriptor is null)
            {
                descriptor = null;
                return false;
            }

            slot = (slot + 1) & mask;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Slot(int wireId) => (int)(((uint)wireId * 0x9E3779B9u) >> _shift);

    private readonly record struct Entry(int WireId, MessageDescriptor? Descriptor);
}
