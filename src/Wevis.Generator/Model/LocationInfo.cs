using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Wevis.Generator.Model
{
    /// <summary>
    /// Where something is in a source or definitions file, stored as plain values: a Roslyn
    /// <see cref="Location"/> holds a syntax tree and would keep the pipeline from caching.
    /// </summary>
    internal sealed record LocationInfo(
        string FilePath, int Start, int Length, int StartLine, int StartCharacter, int EndLine, int EndCharacter)
    {
        public static LocationInfo From(string filePath, TextSpan span, LinePositionSpan lines) =>
            new(filePath, span.Start, span.Length, lines.Start.Line, lines.Start.Character, lines.End.Line, lines.End.Character);

        public static LocationInfo? From(Location location)
        {
            if (location.SourceTree is null)
            {
                return null;
            }

            FileLinePositionSpan lines = location.GetLineSpan();
            return From(lines.Path ?? string.Empty, location.SourceSpan, lines.Span);
        }

        public Location ToLocation() => Location.Create(
            FilePath,
            new TextSpan(Start, Length),
            new LinePositionSpan(new LinePosition(StartLine, StartCharacter), new LinePosition(EndLine, EndCharacter)));
    }
}
