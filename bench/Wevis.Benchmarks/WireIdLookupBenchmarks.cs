using System.Collections.Frozen;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace Wevis.Benchmarks;

/// <summary>
/// Finding a message type by wire id, as reading every body does: a <see cref="Dictionary{TKey, TValue}"/> (the
/// baseline), a <see cref="FrozenDictionary{TKey, TValue}"/> (what the registry used before), and the registry's
/// own open-addressing table. Each call looks up every wire id of the registry once, then one unknown id.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
[BenchmarkCategory("Wire id lookup")]
public class WireIdLookupBenchmarks
{
    private readonly MessageRegistry _registry = MessageRegistry.Combine(Wevis.WevisRegistry.Messages, WevisRegistry.Messages);
    private Dictionary<int, MessageDescriptor> _dictionary = null!;
    private FrozenDictionary<int, MessageDescriptor> _frozen = null!;
    private int[] _wireIds = null!;

    [GlobalSetup]
    public void Setup()
    {
        _dictionary = _registry.Messages.ToDictionary(m => m.WireId);
        _frozen = _dictionary.ToFrozenDictionary();
        _wireIds = [.. _registry.Messages.Select(m => m.WireId), 12345];
    }

    [Benchmark(Baseline = true)]
    public int Dictionary()
    {
        int found = 0;
        foreach (int id in _wireIds)
        {
            found += _dictionary.TryGetValue(id, out _) ? 1 : 0;
        }

        return found;
    }

    [Benchmark]
    public int FrozenDictionary()
    {
        int found = 0;
        foreach (int id in _wireIds)
        {
            found += _frozen.TryGetValue(id, out _) ? 1 : 0;
        }

        return found;
    }

    [Benchmark]
    public int OpenAddressingTable()
    {
        int found = 0;
        foreach (int id in _wireIds)
        {
            found += _registry.TryGetByWireId(id, out _) ? 1 : 0;
        }

        return found;
    }
}
