using System;
using System.Collections;
using System.Collections.Generic;

namespace Wevis.Generator.Model
{
    /// <summary>
    /// A read-only array that compares by its contents, so that pipeline models holding lists stay
    /// value-equatable and the incremental generator can tell an unchanged model from a changed one.
    /// </summary>
    internal sealed class ImmutableEquatableArray<T> : IEquatable<ImmutableEquatableArray<T>>, IReadOnlyList<T>
        where T : IEquatable<T>
    {
        public static ImmutableEquatableArray<T> Empty { get; } = new(Array.Empty<T>());

        private readonly T[] _values;

        public ImmutableEquatableArray(IEnumerable<T> values) => _values = values is T[] array ? (T[])array.Clone() : new List<T>(values).ToArray();

        private ImmutableEquatableArray(T[] values) => _values = values;

        public T this[int index] => _values[index];

        public int Count => _values.Length;

        public bool Equals(ImmutableEquatableArray<T>? other)
        {
            if (ReferenceEquals(this, other))
            {
                return true;
            }

            if (other is null || other._values.Length != _values.Length)
            {
                return false;
            }

            for (int i = 0; i < _values.Length; i++)
            {
                if (!EqualityComparer<T>.Default.Equals(_values[i], other._values[i]))
                {
                    return false;
                }
            }

            return true;
        }

        public override bool Equals(object? obj) => obj is ImmutableEquatableArray<T> other && Equals(other);

        public override int GetHashCode()
        {
            int hash = 17;
            foreach (T value in _values)
            {
                hash = unchecked((hash * 31) + (value is null ? 0 : value.GetHashCode()));
            }

            return hash;
        }

        public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)_values).GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => _values.GetEnumerator();
    }

    internal static class ImmutableEquatableArray
    {
        public static ImmutableEquatableArray<T> ToImmutableEquatableArray<T>(this IEnumerable<T> values)
            where T : IEquatable<T> => new(values);
    }
}
