using System.Text;
using Microsoft.CodeAnalysis.Text;

namespace Wevis.Generator
{
    /// <summary>Writes C# source line by line with four-space indentation, for the emitter.</summary>
    internal sealed class SourceWriter
    {
        private readonly StringBuilder _builder = new();
        private int _indentation;

        /// <summary>Writes text at the current indentation; each line of a multi-line text is indented.</summary>
        public void WriteLine(string text = "")
        {
            foreach (string line in text.Split('\n'))
            {
                if (line.Length > 0)
                {
                    _builder.Append(' ', _indentation * 4);
                    _builder.Append(line);
                }

                _builder.Append('\n');
            }
        }

        /// <summary>Writes an opening brace and indents what follows.</summary>
        public void OpenBlock(string? header = null)
        {
            if (header is not null)
            {
                WriteLine(header);
            }

            WriteLine("{");
            _indentation++;
        }

        /// <summary>Unindents and writes a closing brace, followed by <paramref name="suffix"/> (such as <c>);</c>).</summary>
        public void CloseBlock(string suffix = "")
        {
            _indentation--;
            WriteLine("}" + suffix);
        }

        public SourceText ToSourceText() => SourceText.From(_builder.ToString(), Encoding.UTF8);

        public override string ToString() => _builder.ToString();
    }
}
