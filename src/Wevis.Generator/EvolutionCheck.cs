using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Wevis.Generator.Model;

namespace Wevis.Generator
{
    /// <summary>
    /// Compares a definitions file with its lock file (<c>x.wevis.lock</c>, a copy of the definitions as last
    /// published) and reports each edit that would break programs built from the published definitions, at the
    /// text that makes it: a message removed or renamed; an argument's type, place, bound or presence changed; a
    /// message's direction or a request's replies changed. Adding messages is fine. A version raised above the lock's
    /// accepts every edit; a version lowered is an error.
    /// </summary>
    /// <remarks>
    /// Argument names are not on the wire, so renaming an argument alone (same type, same place) is not reported.
    /// A file with errors of its own is not compared: those come first.
    /// </remarks>
    internal static class EvolutionCheck
    {
        /// <summary>What a lock file is called: the definitions file's name with <c>.lock</c> added.</summary>
        public const string LockExtension = ".lock";

        /// <summary>The lock file of <paramref name="definitionsPath"/>, among <paramref name="locks"/>; null if it has none.</summary>
        public static DefinitionsFileSpec? FindLock(IEnumerable<DefinitionsFileSpec> locks, string definitionsPath)
        {
            string wanted = Normalize(definitionsPath + LockExtension);
            return locks.FirstOrDefault(l => string.Equals(Normalize(l.FilePath), wanted, StringComparison.OrdinalIgnoreCase));
        }

        public static ImmutableEquatableArray<DiagnosticInfo> Check(DefinitionsFileSpec file, DefinitionsFileSpec? published)
        {
            if (published is null || file.Diagnostics.Count > 0 || file.Version > published.Version)
            {
                return ImmutableEquatableArray<DiagnosticInfo>.Empty;
            }

            var diagnostics = new List<DiagnosticInfo>();
            string lockName = Path.GetFileName(published.FilePath);
            if (file.Version < published.Version)
            {
                LocationInfo location = file.VersionLocation ?? LocationInfo.From(file.FilePath, default, default);
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.VersionLowered, location, Number(file.Version), Number(published.Version), lockName));
                return diagnostics.ToImmutableEquatableArray();
            }

            string breaks = "breaks the programs built from the published definitions: raise @version to "
                + Number(published.Version + 1) + ", or, if they were never published, update " + lockName;
            var current = file.Messages.ToDictionary(m => m.Name, StringComparer.Ordinal);
            var publishedNames = new HashSet<string>(published.Messages.Select(m => m.Name), StringComparer.Ordinal);
            var renameClaimed = new HashSet<string>(StringComparer.Ordinal);
            foreach (MessageSpec before in published.Messages)
            {
                if (current.TryGetValue(before.Name, out MessageSpec? now))
                {
                    Compare(before, now, Where(before), breaks, diagnostics);
                    continue;
                }

                MessageSpec? renamed = file.Messages.FirstOrDefault(
                    m => !publishedNames.Contains(m.Name) && !renameClaimed.Contains(m.Name) && SameShape(m, before));
                if (renamed is not null)
                {
                    renameClaimed.Add(renamed.Name);
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.PublishedMessageRenamed, renamed.NameLocation, before.NameLocation, renamed.Name, before.Name, Where(before), breaks));
                }
                else
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.PublishedMessageRemoved, before.NameLocation, before.Name, Where(before), breaks));
                }
            }

            return diagnostics.ToImmutableEquatableArray();
        }

        private static void Compare(MessageSpec before, MessageSpec now, string where, string breaks, List<DiagnosticInfo> diagnostics)
        {
            if (before.Direction != now.Direction)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.DirectionChanged,
                    now.DirectionLocation ?? now.NameLocation,
                    now.Name,
                    Describe(before.Direction),
                    where,
                    Describe(now.Direction),
                    breaks));
            }

            CompareArguments(before, now, where, breaks, diagnostics);

            if (!before.Replies.Select(r => r.Name).OrderBy(n => n, StringComparer.Ordinal)
                .SequenceEqual(now.Replies.Select(r => r.Name).OrderBy(n => n, StringComparer.Ordinal)))
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.RepliesChanged,
                    now.RepliesLocation ?? now.NameLocation,
                    now.Name,
                    Describe(before.Replies),
                    where,
                    Describe(now.Replies),
                    breaks));
            }
        }

        /// <summary>Reports the first argument that breaks compatibility, if any: one edit, one error.</summary>
        private static void CompareArguments(MessageSpec before, MessageSpec now, string where, string breaks, List<DiagnosticInfo> diagnostics)
        {
            int common = Math.Min(before.Arguments.Count, now.Arguments.Count);
            for (int i = 0; i < common; i++)
            {
                ArgumentSpec was = before.Arguments[i];
                ArgumentSpec @is = now.Arguments[i];
                int movedFrom = IndexOf(before, @is.Name);
                if (@is.Name != was.Name && movedFrom >= 0)
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.ArgumentMoved, @is.NameLocation ?? now.NameLocation, @is.Name, now.Name, Number(movedFrom + 1), where, Number(i + 1), breaks));
                    return;
                }

                if (was.Type != @is.Type)
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.ArgumentTypeChanged,
                        @is.TypeLocation ?? now.NameLocation,
                        @is.Name,
                        now.Name,
                        WireNames.Keyword(was.Type),
                        where,
                        WireNames.Keyword(@is.Type),
                        breaks));
                    return;
                }

                if (was.Bound != @is.Bound)
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.BoundChanged,
                        @is.TypeLocation ?? now.NameLocation,
                        @is.Name,
                        now.Name,
                        WireNames.TypeText(was.Type, was.Bound),
                        where,
                        WireNames.TypeText(@is.Type, @is.Bound),
                        breaks));
                    return;
                }
            }

            if (now.Arguments.Count > common)
            {
                ArgumentSpec added = now.Arguments[common];
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.ArgumentAddedOrRemoved, added.NameLocation ?? now.NameLocation, now.Name, "has a new", added.Name, where, breaks));
            }
            else if (before.Arguments.Count > common)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.ArgumentAddedOrRemoved, now.NameLocation, now.Name, "no longer has", before.Arguments[common].Name, where, breaks));
            }
        }

        /// <summary>Whether an unpublished message could be a published one renamed: same direction, argument types and replies.</summary>
        private static bool SameShape(MessageSpec candidate, MessageSpec published) =>
            candidate.Direction == published.Direction
            && candidate.Arguments.Select(a => (a.Type, a.Bound)).SequenceEqual(published.Arguments.Select(a => (a.Type, a.Bound)))
            && candidate.Replies.Select(r => r.Name).SequenceEqual(published.Replies.Select(r => r.Name));

        private static int IndexOf(MessageSpec message, string argumentName)
        {
            for (int i = 0; i < message.Arguments.Count; i++)
            {
                if (message.Arguments[i].Name == argumentName)
                {
                    return i;
                }
            }

            return -1;
        }

        private static string Where(MessageSpec published) =>
            Path.GetFileName(published.NameLocation.FilePath) + " line " + Number(published.Line);

        private static string Describe(Direction direction) => direction switch
        {
            Direction.ClientToServer => "sent by clients (client:)",
            Direction.ServerToClient => "sent by the server (server:)",
            _ => "sent both ways",
        };

        private static string Describe(ImmutableEquatableArray<ReplySpec> replies) =>
            replies.Count == 0 ? "none" : "'-> " + string.Join(" | ", replies.Select(r => r.Name)) + "'";

        private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

        private static string Normalize(string path) => path.Replace('\\', '/');
    }
}
